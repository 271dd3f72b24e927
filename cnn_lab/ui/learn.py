"""The Learn tab: the words of the field with pictures computed from a real digit, what to do when training goes
wrong, and what every training setting does."""

from __future__ import annotations

import html

import gradio as gr
import pandas as pd

from ..data import DataError
from ..glossary import TERMS, digits_from, picture
from ..pictures import png_base64
from ..session import Session
from ..troubleshooting import TROUBLES, trouble_markdown
from .training_panel import LABELS


def settings_frame() -> pd.DataFrame:
    """Every training control's label and its one-line explanation, as shown beside it in the Train tab."""
    return pd.DataFrame(
        [(label, info) for label, info in LABELS.values()], columns=["setting", "what it does, and its range"]
    )


def glossary_html(search: str, session: Session) -> str:
    """The glossary's terms whose name or meaning holds ``search`` (all when empty), each with its picture,
    computed now from the first 7 of MNIST."""
    try:
        mnist = session.workspace.dataset("mnist")
    except DataError as err:
        return f"<p>⚠ {html.escape(str(err))}</p>"
    digits = digits_from(mnist.train_images, mnist.train_labels, mnist.test_images, mnist.test_labels)
    wanted = (search or "").strip().lower()
    cards = [
        f'<div class="cnn-term" id="term-{html.escape(term.picture.replace(" ", "-"))}">'
        f"<h4>{html.escape(term.name)}</h4><p>{html.escape(term.meaning)}</p>"
        f'<img src="data:image/png;base64,{png_base64(picture(term, digits))}" alt="{html.escape(term.caption)}">'
        f'<p class="cnn-caption">{html.escape(term.caption)}</p></div>'
        for term in TERMS
        if wanted in term.name.lower() or wanted in term.meaning.lower()
    ]
    if not cards:
        return f"<p>No term holds “{html.escape(search)}”.</p>"
    return f'<div class="cnn-glossary">{"".join(cards)}</div>'


def learn_tab(session: gr.State) -> tuple[gr.HTML, list]:
    """Lay out the tab; returns the glossary and what fills it, for the app to fill when the tab opens."""
    gr.Markdown("### When training goes wrong")
    for trouble in TROUBLES.values():
        with gr.Accordion(trouble.symptom, open=False, elem_id=f"trouble-{trouble.slug}"):
            gr.Markdown(trouble_markdown(trouble))
    gr.Markdown(
        f"### Glossary\n{len(TERMS)} words of the field; every picture is computed from a real MNIST digit when "
        "this tab opens."
    )
    search = gr.Textbox(label="Find a term", placeholder="e.g. pooling", elem_id="glossary-search")
    glossary = gr.HTML("", elem_id="glossary")
    search.change(glossary_html, [search, session], glossary, api_name=False, show_progress="hidden")
    gr.Markdown(
        "### Every training setting in one place\n"
        "Each control of the Train tab explains itself where it stands; here they are together. "
        "Start from the defaults, change one setting in model B, train, and compare the curves."
    )
    gr.Dataframe(settings_frame(), interactive=False, wrap=True, elem_id="settings-glossary")
    return glossary, [search, session]
