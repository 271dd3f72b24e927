"""The Learn tab: the words of the field with pictures computed from a real digit, what to do when training goes
wrong, and what every training setting does."""

from __future__ import annotations

import html

import gradio as gr
import pandas as pd

from cnn_lab.core.errors import quoted
from cnn_lab.data.datasets import DataError
from cnn_lab.data.pictures import png_base64
from cnn_lab.learn.experiments import (
    GUIDED,
    GUIDED_EPOCHS,
    GUIDED_IMAGES,
    differing_fields,
    guided_setup,
    seed_spread_pp,
    what_it_shows,
)
from cnn_lab.learn.glossary import TERMS, digits_from, picture
from cnn_lab.learn.troubleshooting import TROUBLES, trouble_markdown
from cnn_lab.learn.walkthrough import first_comparison, walkthrough_markdown
from cnn_lab.session import Session
from cnn_lab.ui.parts.checked import Dropdown
from cnn_lab.ui.parts.fields import page_values
from cnn_lab.ui.parts.tab_parts import Refresh, TabParts
from cnn_lab.ui.parts.wiring import escaped, refusal
from cnn_lab.views.labels import LABELS, field_label


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


def field_words(field: str) -> str:
    """A setting in a sentence ("learning rate"), not its config name ("learning_rate")."""
    return "the layers" if field == "layers" else field_label(field).lower()


def checked_knob(knob: object) -> str:
    """One of the guided experiments, or a refusal that names them (an API client may send anything)."""
    if not isinstance(knob, str) or knob not in GUIDED:
        raise refusal(
            escaped(f"experiment must be one of {', '.join(GUIDED)}, got {quoted(knob)}"), title="Check the settings"
        )
    return knob


def set_up_guided(knob: str) -> list:
    """The Train tab's inputs set to the guided experiment ``knob`` (A: the default model; B: A with that one
    change), and a note saying what to do next."""
    knob = checked_knob(knob)
    note = (
        f"**Guided experiment: {knob}.** {GUIDED[knob].question} A and B now differ only in "
        f"*{field_words(GUIDED[knob].field)}*, on {GUIDED_IMAGES:,} training images, {GUIDED_EPOCHS} epochs, the same seed. "
        "Press **Train Models**, then come back to *Learn* and ask what it showed."
    )
    return page_values(guided_setup(knob), note) + [note]


def guided_result(knob: str, session: Session) -> str:
    """What the session's last run shows about ``knob``, from its numbers; or why it cannot say."""
    knob = checked_knob(knob)
    if session.pair.finished is None or not session.pair.trained or set(session.pair.contenders) != {"A", "B"}:
        return "Train the guided experiment first (set it up above, then *Train Models* in Train & compare)."
    a, b = session.pair.contenders["A"].spec, session.pair.contenders["B"].spec
    differ = differing_fields(a, b)
    if differ != [GUIDED[knob].field]:
        return (
            f"The last run was not this experiment: its models differ in "
            f"{', '.join(map(field_words, differ)) or 'nothing'}, not only in {field_words(GUIDED[knob].field)}. "
            "Set it up again and train."
        )
    return what_it_shows(knob, session.pair.finished.results, seed_spread_pp())


def start_here(session: Session) -> str:
    return walkthrough_markdown(session.walkthrough())


def set_up_first(session: Session) -> list:
    """Start here, step 1: the Train tab set to the first comparison, and the page turned to it."""
    session.first_comparison_set_up()
    note = "**Start here, step 2:** press **Train Models** and watch the curves (steps are in the *Learn* tab)."
    return page_values(first_comparison(), note) + [start_here(session), gr.Tabs(selected="train")]


def learn_tab(session: gr.State, setup_inputs: list, setup_note: gr.Markdown, tabs: gr.Tabs) -> TabParts:
    """Lay out the tab; returns what fills the glossary and the Start here steps when the tab opens (the steps also
    when the page loads). ``setup_inputs`` (the Train tab's, in SETUP_FIELDS order) and ``setup_note`` are set by Start
    here and the guided experiments; ``tabs`` turns the page to the Train tab."""
    gr.Markdown("### Start here")
    steps = gr.Markdown("", elem_id="walkthrough")
    first = gr.Button("Set up my first comparison", variant="primary", elem_id="start-set-up")
    first.click(set_up_first, session, [*setup_inputs, setup_note, steps, tabs], api_name=False)
    gr.Markdown(
        "### Guided experiments\nOne click sets models A and B to differ in exactly one setting, on the same "
        "images, order and seed. Train them, then read what the difference showed."
    )
    with gr.Row():
        knob = Dropdown(list(GUIDED), value="learning rate", label="Change one thing", elem_id="guided-knob")
        set_up = gr.Button("Set up A and B", variant="primary", elem_id="guided-set-up")
        shown = gr.Button("What did it show?", elem_id="guided-result")
    guided_note = gr.Markdown("", elem_id="guided-note")
    set_up.click(set_up_guided, knob, [*setup_inputs, setup_note, guided_note], api_name=False)
    shown.click(guided_result, [knob, session], guided_note, api_name="guided_result")
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
    walkthrough = Refresh(start_here, [session], [steps])
    return TabParts(
        on_open=(Refresh(glossary_html, [search, session], [glossary]), walkthrough), on_load=(walkthrough,)
    )
