"""The Runs tab: where run history, reports and model files will live; for now, how to keep a setup."""

from __future__ import annotations

import gradio as gr


def runs_tab() -> None:
    gr.Markdown(
        "Runs are kept for this browser session only for now: the **Train & compare** tab keeps every epoch of both models "
        "(continue or roll back under *Checkpoints*), and *Share and reuse this setup* saves a setup as a link or a JSON file "
        "that `/train_setup` and *Import setup* read back.",
        elem_id="runs-about",
    )
