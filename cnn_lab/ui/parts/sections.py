"""The Inspect tab's sections and what keeps them true: each says which run its results are of, and a new run (a
roll-back, an import) hides results that now describe other models, never leaving them beside the new pair."""

from __future__ import annotations

import gradio as gr

from cnn_lab.session import Session
from cnn_lab.ui.parts.checked import Slider

# section -> (the name of the Markdown that speaks for it, what it says before it shows anything)
SECTIONS: dict[str, tuple[str, str]] = {}


def prompt_text(section: str) -> str:
    return SECTIONS[section][1]


def prompt(section: str, session: Session) -> str:
    return f"**{session.pair.caption()}**: {prompt_text(section)}"


def shown_now(section: str, session: Session) -> dict:
    """What every section's handler adds: its results made visible, and which pair they are of."""
    return {f"{section} results": gr.Column(visible=True), "version": session.pair.version}


def forget_stale(version: int, session: Session) -> dict:
    """The tab opened: results of an earlier pair are hidden, each section saying which models it would show now."""
    notes = {section: note for section, (note, _) in SECTIONS.items()}
    if version == session.pair.version:
        return {name: gr.skip() for name in ("version", "replay", *notes.values())} | {
            f"{section} results": gr.skip() for section in notes
        }
    return (
        {"version": session.pair.version, "replay": Slider(value=0, maximum=1, interactive=False)}
        | {note: prompt(section, session) for section, note in notes.items()}
        | {f"{section} results": gr.Column(visible=False) for section in notes}
    )
