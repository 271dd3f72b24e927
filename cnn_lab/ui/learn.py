"""The Learn tab: what every training setting does, with the range to start from."""

from __future__ import annotations

import gradio as gr
import pandas as pd

from .training_panel import LABELS


def settings_frame() -> pd.DataFrame:
    """Every training control's label and its one-line explanation, as shown beside it in the Train tab."""
    return pd.DataFrame(
        [(label, info) for label, info in LABELS.values()], columns=["setting", "what it does, and its range"]
    )


def learn_tab() -> None:
    gr.Markdown(
        "### Every training setting in one place\n"
        "Each control of the Train tab explains itself where it stands; here they are together. "
        "Start from the defaults, change one setting in model B, train, and compare the curves."
    )
    gr.Dataframe(settings_frame(), interactive=False, wrap=True, elem_id="settings-glossary")
