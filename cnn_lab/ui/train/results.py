"""After a run: both models side by side, their guesses on test images, the sketchpad and its confidence bars, the saved epochs."""

from __future__ import annotations

import gradio as gr
import pandas as pd

from cnn_lab.core.config import LIMITS, ConfigError
from cnn_lab.data.datasets import DataError
from cnn_lab.session import NAMES, Session
from cnn_lab.ui.parts.bounded import BoundedImage, BoundedSketchpad
from cnn_lab.ui.parts.checked import Radio
from cnn_lab.ui.parts.fields import RawNumber
from cnn_lab.views.data_view import sketch_label
from cnn_lab.views.run_view import checkpoint_frame

BRUSH_HINT = "Draw one digit, big: both models read it as you draw (the trash icon clears the pad)."

# Gradio's sketchpad ignores strokes until a tool is picked ("select the draw tool to start"), again after each clear:
# the brush is picked for the person whenever the pad asks for a tool, so the first stroke after load counts.
PICK_BRUSH_JS = """() => {
  const pick = (pad) => {
    if (/select the draw tool/i.test(pad.innerText)) pad.querySelector('button[aria-label="Brush"]')?.click();
  };
  const watch = () => {
    const pad = document.querySelector('#sketchpad');
    if (!pad) return setTimeout(watch, 200);
    new MutationObserver(() => pick(pad)).observe(pad, {subtree: true, childList: true, characterData: true});
    pick(pad);
  };
  watch();
}"""

NO_RESULTS = "<p>Train the models to see their predictions on test images here.</p>"

RESULTS_WHILE_TRAINING = "<p>Training: this run's predictions on test images show here when it ends.</p>"

EMPTY_SUMMARY = pd.DataFrame(columns=["", "Model A", "Model B"])

NO_CHECKPOINTS = checkpoint_frame({})


def new_images(session: Session) -> str:
    """20 other random test images with both models' guesses (HTML)."""
    return session.inspection.sample_results()


def predict_sketch(sketch, session: Session) -> dict:
    """A drawing (dark ink on white, any size, as the sketchpad's value) in; both models' confidences, the input as
    they see it and a note out."""
    return reading_page(session.inspection.read_sketch(composite_of(sketch)), session, BRUSH_HINT)


def composite_of(sketch):
    """The drawing itself: the sketchpad sends its layers and their composite; a program may send the image alone."""
    return sketch.get("composite") if isinstance(sketch, dict) else sketch


def reread_sketch(sketch, session: Session) -> dict:
    """After a run: what is on the pad read by the new models (a digit drawn before training gets its answer); an
    empty pad keeps its hint."""
    reading = session.inspection.read_sketch(composite_of(sketch))
    if reading.preview is None:
        return {name: gr.skip() for name in ("label A", "label B", "preview", "sketch note")}
    return reading_page(reading, session)


def predict_image(image, session: Session) -> dict:
    """Any image (a photo, a scan, a file) in; prepared like the training images (grey or colour, their size, and
    for digits their polarity and centring), both models' confidences, the input as they see it and a note out."""
    return reading_page(session.inspection.read_image(image), session)


def reading_page(reading, session: Session, hint: str = "") -> dict:
    if reading.preview is None:
        return {"label A": None, "label B": None, "preview": None, "sketch note": f"{reading.note} {hint}".strip()}
    labels = {f"label {name}": reading.confidences[name] for name in NAMES}
    if session.pair.running:
        labels = {key: gr.skip() for key in labels}
    return labels | {"preview": reading.preview, "sketch note": reading.note}


def sketch_shown(dataset: str, session: Session):
    """The sketchpad where drawing makes sense, grey images (colour ones are tested with an uploaded image), asking
    for the dataset's classes."""
    try:
        data = session.datasets.named(dataset)
        return gr.update(visible=data.image_shape[0] == 1, label=sketch_label(data.info))
    except (ConfigError, DataError):
        return gr.skip()


def results_and_sketch() -> dict[str, gr.components.Component]:
    """The side-by-side table and test-image grid, with the sketchpad and both models' confidence bars beside them."""
    c = {}
    gr.Markdown("## Results")
    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=420):
            c["summary"] = gr.Dataframe(
                EMPTY_SUMMARY,
                label="Side by side",
                interactive=False,
                wrap=True,
                elem_id="summary",
            )
            c["results"] = gr.HTML(NO_RESULTS, elem_id="results")
            c["new images"] = gr.Button("New images")
        with gr.Column(scale=2, min_width=340):
            c["sketch"] = BoundedSketchpad(
                canvas_size=(280, 280), image_mode="L", type="numpy", layers=False,
                brush=gr.Brush(colors=["#000000"], color_mode="fixed", default_size=14), label="Draw a digit: both models read it", elem_id="sketchpad",
            )  # fmt: skip
            c["sketch note"] = gr.Markdown(BRUSH_HINT, elem_id="sketch-note")
            with gr.Row():
                c["preview"] = gr.Image(
                    label="Model input",
                    height=120,
                    width=120,
                    interactive=False,
                    buttons=[],
                    min_width=120,
                    elem_id="sketch-preview",
                )
                for name in NAMES:
                    c[f"label {name}"] = gr.Label(
                        num_top_classes=10, label=f"Model {name}", min_width=120, elem_id=f"label-{name}"
                    )
            c["own image"] = BoundedImage(
                label="Or test an image of your own (prepared like the training images)", type="numpy",
                sources=["upload", "clipboard"], height=150, elem_id="own-image",
            )  # fmt: skip
    return c


def checkpoint_section() -> dict[str, gr.components.Component]:
    gr.Markdown("## Checkpoints: continue or roll back")
    gr.Markdown(
        "Every finished epoch of each model is kept. Continue trains both models on from where they are (each with its own settings "
        "from the run; its schedule starts again over the new epochs); roll back returns one model to an earlier epoch."
    )
    with gr.Row():
        c = {
            "more epochs": RawNumber(1, label="More epochs", precision=0, info=f"1 to {LIMITS.max_epochs}"),
            "continue": gr.Button("Continue training", variant="secondary", elem_id="continue"),
            "rollback model": Radio(list(NAMES), value="A", label="Model to roll back"),
            "rollback epoch": RawNumber(1, label="Back to epoch", precision=0, info="one of the saved epochs below"),
            "rollback": gr.Button("Roll back", elem_id="roll-back"),
        }
    c["rollback note"] = gr.Markdown("")
    c["checkpoints"] = gr.Dataframe(NO_CHECKPOINTS, label="Saved epochs", interactive=False, elem_id="checkpoints")
    return c
