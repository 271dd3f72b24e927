"""The Train & compare tab: two model columns, the run, live curves, results beside the sketchpad, checkpoints.

Layout and wiring only; every handler calls the Session and shows what
comes back. Handlers are plain module-level functions; the session arrives
as the last input (a gr.State) and never leaves the server.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import gradio as gr
import pandas as pd

from cnn_lab.core.builder import layers_to_json
from cnn_lab.core.config import DEFAULT_CHANNELS, LIMITS, ConfigError, ExperimentConfig, ModelConfig, RunConfig
from cnn_lab.core.presets import DEFAULT_CHANNELS_B, DEFAULT_TRAIN_IMAGES, PRESETS, default_experiment, measured_note
from cnn_lab.core.sharing import MAX_JSON_BYTES, QUERY_KEY, experiment_from_token, experiment_to_token
from cnn_lab.data.datasets import DataError
from cnn_lab.data.pictures import displayable
from cnn_lab.engine.crossval import MAX_FOLDS
from cnn_lab.engine.runtime import available_devices
from cnn_lab.inspect.inference import drawing_from_base64
from cnn_lab.learn.coach import coach_text
from cnn_lab.session import NAMES, Session
from cnn_lab.ui.parts.bounded import BoundedImage, BoundedSketchpad
from cnn_lab.ui.parts.checked import Checkbox, CheckboxGroup, Dropdown, Radio, Slider
from cnn_lab.ui.parts.downloads import download_folder
from cnn_lab.ui.parts.fields import (
    BUILDER,
    CUSTOM,
    DATASET_CHOICES,
    SETUP_FIELDS,
    TRAIN_FIELDS,
    RawNumber,
    number_from_text,
    parse_channels,
    setup_from_list,
    train_values,
    values_of,
)
from cnn_lab.ui.parts.wiring import by_name, escaped, user_errors
from cnn_lab.ui.train.builder_panel import builder_panel, report_frame
from cnn_lab.ui.train.training_panel import training_controls
from cnn_lab.views.run_view import (
    ACCURACY_COLORS,
    ACCURACY_FOCUS,
    CHART_SMOOTHING,
    CURVES,
    LOSS_COLORS,
    MAX_CHART_SMOOTHING,
    X_AXES,
    CrossValidationView,
    RunView,
    checkpoint_frame,
)

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
PRESET_CHOICES = (
    [("Custom: 4 conv layers, your channel sizes", CUSTOM)]
    + [(p.title, p.key) for p in PRESETS.values()]
    + [("Builder: your own layer list", BUILDER)]
)
COPY_LINK_JS = """(token) => {
  const url = window.location.origin + window.location.pathname + "?setup=" + token;
  window.history.replaceState(null, "", url);
  if (navigator.clipboard) { navigator.clipboard.writeText(url).catch(() => {}); }
  return url;
}"""
EVALUATED = ("test", "validation")  # the accuracy curves drawn as points too: a single evaluation is a single point
DOT = 'path("M-4,0a4,4 0 1,0 8,0a4,4 0 1,0 -8,0")'
# Vega draws a line plot's points invisible (shown on hover only), and a line of one point not at all: every
# evaluation is drawn as a dot (each point's aria-label names its curve). Chart text and grid follow a theme switched
# after a chart was drawn (Vega takes its colours once, from the theme of that moment).
CHART_CSS = "".join(
    f'#accuracy-plot .hover_marks path[aria-label$="curve: {name} {kind}"] '
    f"{{ opacity: 1 !important; d: {DOT}; fill: {ACCURACY_COLORS[f'{name} {kind}']}; }}\n"
    for name in NAMES
    for kind in EVALUATED
) + (
    "svg.marks text { fill: var(--body-text-color) !important; }\n"
    "svg.marks .role-axis-grid path, svg.marks .role-axis-tick path { stroke: var(--border-color-primary) !important; }\n"
)
RUN_OUTPUTS = (
    "status",
    "progress",
    "loss",
    "accuracy",
    "log A",
    "log B",
    "results",
    "summary",
    "rate A",
    "rate B",
    "checkpoints",
    "coach",
)


# ---------------------------------------------------------------- handlers


def live_page(session: Session, finished: bool = False, view: RunView | None = None) -> dict:
    """The page's view of the session's run (``view``, else the session's) as plain values (the charts as tables);
    the results and table once the run has ended: while it runs, they say so (the last run's numbers beside this
    run's curves would belong to models that no longer exist)."""
    view = view or session.pair.view
    page = {
        "status": view.status_text(),
        "progress": view.progress_text(),
        **chart_frames(session, view),
        **{f"log {name}": view.log_text(name) for name in NAMES},
        "coach": coach_text(view),
    }
    if not finished:  # the run's epochs are saved in its worker: the table shows them when it ends
        return page | {"results": RESULTS_WHILE_TRAINING, "summary": EMPTY_SUMMARY, "checkpoints": NO_CHECKPOINTS}
    return page | {
        "results": session.inspection.sample_results(),
        "summary": session.inspection.summary(),
        "checkpoints": session.inspection.checkpoints(),
    }


def run_page(session: Session, full_range: bool, finished: bool = False) -> dict:
    """The page at once (not streamed), the accuracy chart with its range."""
    return with_accuracy_range(live_page(session, finished), session, full_range)


CHARTS = ("loss", "accuracy", "rate A", "rate B")


def chart_frames(session: Session, view: RunView | None = None) -> dict:
    """The loss, accuracy and learning-rate charts' data (of ``view``, else the session's) as the session's chart
    options draw them (axis, smoothing, log scale, curves shown)."""
    options, view = session.training.chart, view or session.pair.view
    return {
        "loss": view.loss_frame(options),
        "accuracy": view.accuracy_frame(options),
        **{f"rate {name}": view.learning_rate_frame(name, options) for name in NAMES},
    }


def curves(session: Session, full_range: bool) -> dict:
    """A run's update of the charts: data only (the accuracy chart with its range). The charts keep the titles that
    draw_curves gave them, and /train's clients get the loss and the rates as plain tables."""
    return with_accuracy_range(chart_frames(session), session, full_range)


def with_accuracy_range(page: dict, session: Session, full_range: bool) -> dict:
    """``page`` with its accuracy table drawn at the chart's range (a component, not data: never within a stream)."""
    return page | {"accuracy": gr.LinePlot(page["accuracy"], y_lim=accuracy_range(full_range, session))}


def titled_curves(session: Session, full_range: bool) -> dict:
    """The charts with the titles that say how they are drawn (the x axis, the smoothing, the log scale)."""
    options, frames = session.training.chart, chart_frames(session)
    x_title = X_AXES[options.x_axis]
    smoothing = f"smoothed {options.smoothing:.2f}" if options.smoothing else "not smoothed"
    return {
        "loss": gr.LinePlot(
            frames["loss"], x_title=x_title, title=f"Training loss ({smoothing})",
            y_title="log10 of the loss (-1 is 0.1)" if options.log_loss else "loss",
        ),
        "accuracy": gr.LinePlot(frames["accuracy"], x_title=x_title, y_lim=accuracy_range(full_range, session)),
        **{f"rate {name}": gr.LinePlot(frames[f"rate {name}"], x_title=x_title) for name in NAMES},
    }  # fmt: skip


def draw_curves(x_axis: str, smoothing: float, log_loss: bool, shown: list[str], full_range: bool, session: Session):
    """The live charts redrawn with another x axis, smoothing, log scale or choice of curves (also during a run: its
    next update draws them so too)."""
    with user_errors("Charts · "):
        session.training.draw_curves(x_axis, smoothing, log_loss, shown)
    if session.pair.view is None:  # nothing drawn yet: the next run draws so
        return {name: gr.skip() for name in CHARTS}
    return titled_curves(session, full_range)


def redraw_curves(full_range: bool, session: Session):
    """The charts' data once more, alone: a chart given new titles and new data in one update sometimes drew the data
    it had before (seen once in a browser test: the title said 0.95, the line was the raw loss); a data-only update
    is what every run's stream sends, and it always draws."""
    return curves(session, full_range) if session.pair.view is not None else {name: gr.skip() for name in CHARTS}


def chart_data(session: Session) -> str:
    """Every point of the live charts (loss raw and smoothed, accuracy, learning rate) on every axis, as a CSV file."""
    with user_errors("Charts · "):
        text = session.training.chart_csv()
    path = download_folder("cnn_lab_curves_", session) / "cnn_lab_curves.csv"
    path.write_text(text)
    return str(path)


def stream_run(session: Session, updates):
    """A page per update, the charts as data only: the accuracy chart's range is set before the run (the full range,
    so that every curve shows while it climbs) and after it (see wire_training). A chart given a range with its data
    (a component) in a stream kept showing its first data on the page, and switching between the two within one
    stream broke it: Gradio's JavaScript client applies a stream's diffs in place to the object a chart holds. A range
    also makes Gradio rebuild the chart's config on the server, about 15 ms an update (py-spy). The run's updates are
    iterated from the first moment on: closing this stream (a closed tab) then always reaches the session's clean-up,
    which stops the run and frees the session."""
    for _ in updates:
        view = session.pair.view
        if view is None:  # the person left mid-run (the session was closed): nobody to show it to
            return
        yield live_page(session, session.pair.finished is not None, view)


def widen_accuracy():
    """The accuracy chart's full range, for a run's curves to show as they climb."""
    return gr.LinePlot(y_lim=[0.0, 100.0])


def train(*values):
    """Train a fresh pair. Inputs: the setup's values in the page's order (see README), then whether the accuracy chart shows 0-100 %
    (the page applies it when the run ends: the stream sends every chart as a table). Streams status, progress, loss curve,
    accuracy curve, log A, log B, results HTML, summary table, learning-rate curves A and B, saved epochs, and the coach's
    words on the curves."""
    *setup, full_range, session = values
    with user_errors():
        updates = session.training.train(setup_from_list(setup))
        yield from stream_run(session, updates)


def train_setup(setup: str, full_range: bool, session: Session):
    """Train a fresh pair from a whole setup: the JSON of *Export setup*, or a share link's token (the text after ?setup=).
    Streams the same outputs as /train."""
    with user_errors("setup · "):
        text = (setup or "").strip()
        experiment = ExperimentConfig.from_json(text) if text.startswith("{") else experiment_from_token(text)
        yield from stream_run(session, session.training.train(experiment))


def continue_training(more_epochs, full_range: bool, session: Session):
    """Both trained models train `more_epochs` more epochs from where they are (streams like /train)."""
    with user_errors():
        updates = session.training.continue_training(number_from_text(more_epochs, "more epochs"))
        yield from stream_run(session, updates)


def roll_back(model: str, epoch, full_range: bool, session: Session) -> dict:
    """Model `model` ("A" or "B") back to a saved epoch. Returns a note, the summary, results, saved epochs and the redrawn charts."""
    with user_errors():
        note = session.pair.roll_back(model, number_from_text(epoch, "epoch"))
    return {"rollback note": note} | run_page(session, full_range, finished=True)


STOP_WAIT_S = 10.0


def stop(session: Session) -> str:
    """End the running training (cross-validation, or repeat over seeds) after its current batch. Answers once the
    run has ended (up to STOP_WAIT_S) with the run's final status: a "Stopping..." that arrived after the run's own
    last update would overwrite "Stopped" in the page (a stop ends a run within a batch, often before its answer)."""
    said = session.training.stop()
    if said.startswith("Stopping") and session.training.wait_until_idle(STOP_WAIT_S) and session.pair.view is not None:
        return session.pair.view.status_text()
    return said


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
    """The sketchpad where drawing makes sense: grey images (colour ones are tested with an uploaded image)."""
    try:
        return gr.update(visible=session.datasets.named(dataset).image_shape[0] == 1)
    except (ConfigError, DataError):
        return gr.skip()


def read_digit(drawing: str, session: Session) -> dict:
    """API only: a drawing as a base64 PNG or JPEG (or a data: URL), dark ink on white, in; out, as JSON, each model's
    confidence per class ({"A": {"0": 0.01, ...}, "B": ...}, null before training) and a note. No file goes either way,
    and it skips the queue: the fastest way for a program to read digits."""
    with user_errors("read_digit · "):
        reading = session.inspection.read_sketch(drawing_from_base64(drawing))
    return {**reading.confidences, "note": reading.note}


def accuracy_range(full: bool, session: Session) -> list[float]:
    """0-100 %, or fitted to every point of the curves shown."""
    floor = (
        0.0
        if full
        else session.pair.view.accuracy_floor(session.training.chart.hidden)
        if session.pair.view
        else ACCURACY_FOCUS
    )
    return [floor, 100.0]


def rescale_accuracy(full: bool, session: Session):
    return gr.LinePlot(y_lim=accuracy_range(full, session))


def run_cross_validation(*values):
    """k-fold cross-validation of one model of the setup: the setup's values, then the model ("A" or "B"), k and the training images."""
    *setup, model, folds, images, session = values
    with user_errors("Cross-validation · "):
        warning, view, updates = session.training.cross_validate(
            setup_from_list(setup), model, number_from_text(folds, "folds"), number_from_text(images, "train_subset")
        )
        gr.Warning(warning)
        for _ in updates:  # iterated at once, so that a closed tab always reaches the session's clean-up
            yield view.note(), view.frame()


def share_token(*values) -> str:
    """The setup (the page's values) as a share token: open /?setup=<token> to restore it."""
    with user_errors("Cannot share this setup yet: "):
        return experiment_to_token(setup_from_list(values))


def export_setup(*values_and_session) -> str:
    """The setup (the page's values) as a JSON file; /train_setup takes its text."""
    *values, session = values_and_session
    with user_errors("Cannot export this setup yet: "):
        text = setup_from_list(values).to_json()
    path = download_folder("cnn_lab_setup_", session) / "cnn_lab_setup.json"
    path.write_text(text)
    return str(path)


def page_values(experiment: ExperimentConfig, note: str) -> list:
    """The page's inputs showing a loaded setup: a column whose model is the Custom stack shows its channel sizes,
    any other switches to the builder (its channel box keeps its text)."""
    values = values_of(experiment)
    values |= {f"{name}.channels": gr.skip() for name in NAMES if not values[f"{name}.channels"]}
    if values["run.device"] not in ("auto", *available_devices()):
        values["run.device"] = "auto"
    return [values[name] for name in SETUP_FIELDS] + [note]


def unchanged(note=None) -> list:
    return [gr.skip()] * len(SETUP_FIELDS) + [gr.skip() if note is None else note]


def import_setup(path: str | None) -> list:
    try:
        if Path(path).stat().st_size > MAX_JSON_BYTES:
            raise ConfigError(f"a setup file is at most {MAX_JSON_BYTES // 1024} KB (an exported one is about 2 KB)")
        experiment = ExperimentConfig.from_json(Path(path).read_text(encoding="utf-8"))
    except (ConfigError, OSError, UnicodeDecodeError, TypeError) as err:
        gr.Warning(escaped(f"Could not import that file: {err}. The page keeps its settings."))
        return unchanged()
    return page_values(experiment, "Setup imported." + shape_note(experiment))


def shape_note(experiment: ExperimentConfig) -> str:
    """The page keeps layers, not a model's input shape or class count: say so when the file gave other ones."""
    default = ModelConfig(())
    if all(
        (spec.model.input_shape, spec.model.num_classes) == (default.input_shape, default.num_classes)
        for spec in (experiment.a, experiment.b)
    ):
        return ""
    return (
        " Its models' input shape and class count are not kept: when they train, they read the images and classes of "
        f"the dataset it names ({experiment.run.dataset})."
    )


def restore_from_link(request: gr.Request) -> list:
    token = request.query_params.get(QUERY_KEY) if request else None
    if not token:
        return unchanged()
    try:
        experiment = experiment_from_token(token)
    except ConfigError as err:
        gr.Warning(escaped(f"{err}. Showing the default setup instead."))
        return unchanged(escaped(f"The shared link could not be read ({err}); these are the defaults."))
    return page_values(experiment, "Setup restored from the shared link.")


def architecture_fields(architecture: str, channels: str, layers: str) -> list:
    """Picking an architecture fills the builder with its layers and, for a preset, the training settings it was made with."""
    if not isinstance(architecture, str):  # only a hand-made request sends anything else: leave the page as it is
        return [gr.skip()] * (len(TRAIN_FIELDS) + 2)
    if architecture in PRESETS:
        p = PRESETS[architecture]
        return [layers_to_json(p.spec.model.layers), *train_values(p.spec.train), f"{p.about} {measured_note(p.key)}"]
    keep = [gr.skip()] * len(TRAIN_FIELDS)
    if architecture == BUILDER:
        return [gr.skip(), *keep, "Your own stack: edit, add, move or remove layers in the builder below."]
    return [
        channel_layers(channels, layers),
        *keep,
        "Four 3x3 convolutions with ReLU; max-pooling after the 2nd and 4th.",
    ]


def channel_layers(channels: str, layers: str) -> str:
    """The builder's mirror of the four channel sizes (unchanged while the text is not yet valid)."""
    try:
        return layers_to_json(parse_channels(channels).layers)
    except ConfigError:
        return layers


def channels_used(architecture: str):
    """The channel box shows only while the Custom architecture trains its sizes: a preset or the builder's list
    replaces them, and a box left showing them would say otherwise."""
    return gr.Textbox(visible=architecture == CUSTOM)


def mirror_channels(architecture: str, channels: str, layers: str):
    return channel_layers(channels, layers) if architecture == CUSTOM else gr.skip()


def images_per_epoch(dataset: str, subset, validation, session: Session):
    """How many images one epoch trains on with these run settings (unchanged while one is invalid), for the schedule previews."""
    try:
        run = RunConfig(
            dataset,
            number_from_text(subset, "train_subset") or None,
            validation_size=number_from_text(validation, "validation_size") or 0,
        )
        return session.datasets.images_per_epoch(run)
    except (ConfigError, DataError):
        return gr.skip()


def builder_table(layers: str, dataset: str, session: Session):
    """A builder's layer table on the run's dataset: shapes, parameters and FLOPs as the model will have them there
    (on MNIST's 28x28 while that dataset cannot be loaded)."""
    try:
        data = session.datasets.named(dataset)
    except (ConfigError, DataError):
        return report_frame(layers)
    return report_frame(layers, data.image_shape, data.info.num_classes)


def setting_advice(*values):
    """Each model's warnings for the page's settings (unchanged while a value is invalid: the fields say why)."""
    *values, session = values
    try:
        return session.training.setting_advice(setup_from_list(values))
    except (ConfigError, DataError):
        return gr.skip(), gr.skip()


def augmentation_preview(kinds: list[str], dataset: str, session: Session):
    """A few training images, with their labels, as the model will see them; a new draw every time."""
    with user_errors():
        shown = session.datasets.augmentation_preview(tuple(kinds or ()), dataset)
        return [(displayable(image), label) for image, label in shown]  # a gallery takes colour as H x W x C


# ---------------------------------------------------------------- layout


@dataclass
class TrainTab:
    """The components other tabs and the app need: the setup inputs by SETUP_FIELDS name, the session, the layer boxes."""

    session: gr.State
    setup: dict[str, gr.components.Component]
    layer_boxes: list[gr.Textbox]
    share_note: gr.Markdown  # where restoring a shared link says how it went


@dataclass
class ColumnParts:
    """What a model column shows besides its inputs, for wire_setup to fill."""

    augment: gr.CheckboxGroup
    gallery: gr.Gallery  # the augmentation preview
    redraw: gr.Button
    table: gr.Dataframe  # the builder's layer table
    advice: gr.Markdown  # warnings its settings earn


def model_column(name: str, channels: tuple[int, ...], epoch_images: gr.Number) -> tuple[dict, ColumnParts]:
    """One model's column: architecture, channels, training controls, layer builder, warnings. Returns its inputs by
    field name, and the parts wire_setup fills."""
    defaults = default_experiment().a if name == "A" else default_experiment().b
    channel_text = ", ".join(map(str, channels))
    with gr.Column(variant="panel", elem_id=f"model-{name}"):
        gr.Markdown(f"### Model {name}")
        with gr.Row():
            architecture = Dropdown(
                PRESET_CHOICES, value=CUSTOM, label="Architecture", elem_id=f"architecture-{name}", scale=3,
                info="a preset, 4 conv channel sizes (Custom), or your own layer list (Builder)",
            )  # fmt: skip
            channel_box = gr.Textbox(
                channel_text, label="Conv channel sizes", elem_id=f"channels-{name}", scale=2,
                info=f"4 sizes, 1 to {LIMITS.max_channels} each; starts at {channel_text}",
            )  # fmt: skip
        about = gr.Markdown(architecture_fields(CUSTOM, "", "")[-1])
        layers = gr.Textbox(channel_layers(channel_text, "[]"), visible=False, label=f"Layers of model {name} (JSON)")
        controls, gallery, redraw = training_controls(name, defaults.train, epoch_images)
        with gr.Accordion(f"Layer builder, model {name}", open=False):
            table = builder_panel(name, layers, architecture)
        advice = gr.Markdown("", elem_id=f"advice-{name}")
    inputs = [controls[f] for f in TRAIN_FIELDS]
    architecture.change(
        architecture_fields, [architecture, channel_box, layers], [layers, *inputs, about], api_name=False
    ).then(channels_used, architecture, channel_box, api_name=False, show_progress="hidden")
    channel_box.change(mirror_channels, [architecture, channel_box, layers], layers, api_name=False)
    fields = {"architecture": architecture, "channels": channel_box, "layers": layers} | controls
    return {f"{name}.{field}": component for field, component in fields.items()}, ColumnParts(
        controls["augment"], gallery, redraw, table, advice
    )


def run_settings(device: str) -> dict[str, gr.components.Component]:
    """What both models share: data, seed, hardware, validation. Returns the inputs by SETUP_FIELDS name."""
    with gr.Accordion("Data, validation and hardware (shared by both models)", open=False, elem_id="run-settings"):
        with gr.Row():
            c = {
                "dataset": Dropdown(
                    DATASET_CHOICES, value="mnist", label="Dataset", info="see it in the Data tab", elem_id="dataset"
                ),
                "train_subset": RawNumber(
                    DEFAULT_TRAIN_IMAGES,
                    label="Training images (0 = all)",
                    precision=0,
                    info=f"fewer: faster runs; starts at {DEFAULT_TRAIN_IMAGES:,} (a fast first run; all: more accuracy)",
                ),
                "seed": RawNumber(0, label="Seed", precision=0, info="same seed and settings: the same curves"),
                "device": Dropdown(
                    ["auto", *available_devices()], value=device, label="Device", info="auto: CUDA, MPS, CPU"
                ),
                "precision": Dropdown(
                    ["auto", "fp32", "bf16"], value="auto", label="Precision", info="auto: bf16 if fast"
                ),
                "evals_per_epoch": RawNumber(
                    default_experiment().run.evals_per_epoch,
                    label="Test evaluations per epoch",
                    precision=0,
                    info="1 to 10: points on the test curve",
                ),
            }
        with gr.Row():
            c["validation_size"] = RawNumber(
                0,
                label="Validation images (0 = none)",
                precision=0,
                info="held out of the training images, e.g. 5000; early stopping needs them",
            )
            c["identical_init"] = Checkbox(
                True,
                label="Identical initial weights",
                info="A and B with the same architecture start from the same weights, so only the settings differ",
            )
    return {f"run.{field}": component for field, component in c.items()}


def live_charts() -> dict[str, gr.components.Component]:
    """Progress, loss and accuracy curves, learning rates and logs, by RUN_OUTPUTS name."""
    c = {
        "progress": gr.Textbox(
            label="Progress", lines=2, max_lines=2, interactive=False, elem_classes="cnn-mono", elem_id="progress"
        ),
        "coach": gr.Markdown("", elem_id="coach"),  # what the curves show, in words (coach.py)
    }
    with gr.Row():
        c["loss"] = gr.LinePlot(
            x="x",
            y="loss",
            color="model",
            title=f"Training loss (smoothed {CHART_SMOOTHING:.2f})",
            x_title="images seen",
            color_map=LOSS_COLORS,
            height=300,
            elem_id="loss-plot",
            buttons=["export", "fullscreen"],  # export: the chart as it is now, as a PNG
        )
        c["accuracy"] = gr.LinePlot(
            x="x",
            y="accuracy",
            color="curve",
            title="Accuracy (%)",
            x_title="images seen",
            y_title="accuracy %",
            y_lim=[90, 100],
            color_map=ACCURACY_COLORS,
            height=300,
            elem_id="accuracy-plot",
            buttons=["export", "fullscreen"],  # export: the chart as it is now, as a PNG
        )
    c |= chart_controls()
    with gr.Row():  # one chart per model: their rates can differ by orders of magnitude
        for name in NAMES:
            c[f"rate {name}"] = gr.LinePlot(
                x="x",
                y="learning rate",
                color="model",
                title=f"Learning rate, model {name} (live)",
                x_title="images seen",
                y_axis_format="~e",  # 1e-3: Vega's own "0.001000" was cut to "1000" at the chart's edge
                color_map=LOSS_COLORS,
                height=200,
                buttons=["export", "fullscreen"],
            )
    with gr.Row():
        for name in NAMES:
            c[f"log {name}"] = gr.Textbox(
                label=f"Log, model {name} (newest first)",
                lines=10,
                max_lines=10,
                interactive=False,
                elem_classes="cnn-mono",
                elem_id=f"log-{name}",
            )
    return c


def chart_controls() -> dict[str, gr.components.Component]:
    """How the charts are drawn: x axis, smoothing, log-scale loss, the curves shown, the accuracy range, and the
    data as CSV (each chart's own export button saves it as a PNG)."""
    with gr.Row(elem_id="chart-controls"):
        c = {
            "x axis": Radio(
                [(title, key) for key, title in X_AXES.items()],
                value="images",
                label="x axis",
                min_width=260,
                elem_id="chart-x-axis",
            ),
            "smoothing": Slider(
                0,
                MAX_CHART_SMOOTHING,
                value=CHART_SMOOTHING,
                step=0.01,
                label="Loss smoothing",
                min_width=200,
                info="0 draws every point's mean loss; towards 1, a longer moving average",
                elem_id="chart-smoothing",
            ),
            "log loss": Checkbox(False, label="Log-scale loss", min_width=140, elem_id="chart-log-loss"),
            "full range": Checkbox(
                False,
                label="Accuracy from 0 to 100%",
                min_width=200,
                info="otherwise the axis fits the curves shown: hide the train curves to zoom on the test points",
            ),
        }
    with gr.Row(equal_height=False):
        c["shown"] = CheckboxGroup(
            list(CURVES),
            value=list(CURVES),
            label="Curves shown (validation ones appear with a validation split)",
            scale=3,
            elem_id="chart-curves",
        )
        with gr.Column(scale=1, min_width=200):
            with gr.Accordion("Chart data (CSV)", open=False, elem_id="chart-data"):
                c["chart data"] = gr.Button("Download the chart data (CSV)", size="sm", elem_id="chart-csv")
                c["chart file"] = gr.File(label="Chart data", interactive=False, height=90, elem_id="chart-file")
    return c  # fmt: skip


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


def cross_validation_section() -> dict[str, gr.components.Component]:
    with gr.Accordion("Cross-validation (k-fold) of one model", open=False):
        gr.Markdown(
            "Trains the model k times from the same initial weights, each time validating on a different k-th of the images, "
            "and reports the mean and spread of validation accuracy: how much a score depends on the split. "
            "It costs k trainings; you get a time estimate before it starts."
        )
        with gr.Row():
            c = {
                "model": Radio(list(NAMES), value="A", label="Model"),
                "folds": RawNumber(5, label="Folds (k)", precision=0, info=f"2 to {MAX_FOLDS}"),
                "images": RawNumber(
                    5000, label="Training images", precision=0, info="split into k folds (0 = all); smaller is faster"
                ),
                "run": gr.Button("Run cross-validation", elem_id="cross-validate"),
            }
        c["status"] = gr.Markdown("")
        c["table"] = gr.Dataframe(pd.DataFrame(columns=CrossValidationView.COLUMNS), label="Folds", interactive=False)
    return c


def share_section() -> dict[str, gr.components.Component]:
    with gr.Accordion("Share and reuse this setup", open=False, elem_id="share-setup"):
        with gr.Row():
            c = {
                "share": gr.Button("Copy share link", elem_id="share"),
                "export": gr.Button("Export setup (JSON)", elem_id="export"),
                "import": gr.UploadButton(
                    "Import setup (JSON)", file_types=[".json"], type="filepath", elem_id="import"
                ),
            }
        with gr.Row():
            c["link"] = gr.Textbox(
                label="Share link (opens this exact setup)",
                interactive=False,
                buttons=["copy"],
                scale=2,
                elem_id="share-link",
            )
            c["file"] = gr.File(label="Setup file", interactive=False, height=90)
    c["note"] = gr.Markdown("", elem_id="share-note")
    c["token"] = gr.Textbox(visible=False)
    return c


def train_tab(session: gr.State, device: str, max_concurrent_trainings: int, limits: str = "") -> TrainTab:
    """Lay out the tab and wire its events (inside a gr.Tab of the app); ``limits`` describes a public server's."""
    gr.Markdown("Configure two small CNNs, train them side by side on the same batches, and compare.")
    if limits:
        gr.Markdown(f"**A public server:** each run may use at most {limits}.", elem_id="server-limits")
    epoch_images = gr.Number(DEFAULT_TRAIN_IMAGES, visible=False)  # images per epoch of the run, for schedule previews
    setup, previews = {}, []
    with gr.Row():
        for name, channels in zip(NAMES, (DEFAULT_CHANNELS, DEFAULT_CHANNELS_B)):
            inputs, preview = model_column(name, channels, epoch_images)
            setup |= inputs
            previews.append(preview)
    setup |= run_settings(device)
    assert set(setup) == set(SETUP_FIELDS), "every setup field has one component"
    c = {"status": gr.Markdown("Ready. Press **Train Models**.", elem_id="status")}
    with gr.Row():
        c["train"] = gr.Button("Train Models", variant="primary", elem_id="train")
        c["stop"] = gr.Button("Stop", variant="stop", elem_id="stop")
    share = share_section()
    c |= live_charts() | results_and_sketch() | checkpoint_section()
    cv = cross_validation_section()
    wire_training(c, cv, setup, session, max_concurrent_trainings)
    wire_setup(setup, share, previews, epoch_images, session)
    return TrainTab(session, setup, [setup["A.layers"], setup["B.layers"]], share["note"])


def training_slots(max_concurrent_trainings: int) -> dict:
    """The queue settings of every event that trains: they share ``max_concurrent_trainings`` slots."""
    return dict(concurrency_limit=max_concurrent_trainings, concurrency_id="training", show_progress="minimal")


def wire_training(c: dict, cv: dict, setup: dict, session: gr.State, max_concurrent_trainings: int) -> None:
    """The runs (train, train_setup, continue, cross-validate share the training slots), stop, roll back, results, sketch."""
    setup_inputs = [setup[name] for name in SETUP_FIELDS]
    run_outputs = {name: c[name] for name in RUN_OUTPUTS}  # the order /train's clients read
    outputs, full_range = list(run_outputs.values()), c["full range"]
    slots = training_slots(max_concurrent_trainings)
    training = slots | dict(show_progress_on=[c["status"]])
    accuracy = c["accuracy"]

    sketch_outputs = {k: c[k] for k in ("label A", "label B", "preview", "sketch note")}

    def around_a_run(trigger, handler, inputs: list, api_name: str) -> None:
        """A streamed run with the accuracy chart at its full range while the curves climb, focused again after it
        (also after a refusal or a stop), then the drawing on the pad read by the new models; see stream_run."""
        trigger(widen_accuracy, None, accuracy, api_name=False, queue=False).then(
            by_name(handler, run_outputs), inputs, outputs, api_name=api_name, **training
        ).then(rescale_accuracy, [full_range, session], accuracy, api_name=False).then(
            by_name(reread_sketch, sketch_outputs), [c["sketch"], session], list(sketch_outputs.values()),
            api_name=False, show_progress="hidden",
        )  # fmt: skip

    around_a_run(c["train"].click, train, [*setup_inputs, full_range, session], "train")
    setup_text = gr.Textbox(visible=False)  # /train_setup's input: programs send a whole setup (JSON or share token)
    around_a_run(setup_text.submit, train_setup, [setup_text, full_range, session], "train_setup")
    around_a_run(c["continue"].click, continue_training, [c["more epochs"], full_range, session], "continue_training")
    rolled = {"rollback note": c["rollback note"]} | run_outputs
    c["rollback"].click(
        by_name(roll_back, rolled), [c["rollback model"], c["rollback epoch"], full_range, session],
        list(rolled.values()), api_name="roll_back",
    )  # fmt: skip
    cv["run"].click(
        run_cross_validation, [*setup_inputs, cv["model"], cv["folds"], cv["images"], session], [cv["status"], cv["table"]],
        api_name="cross_validate", **slots, show_progress_on=[cv["status"]],
    )  # fmt: skip
    c["stop"].click(stop, session, c["status"], api_name="stop", queue=False)
    c["new images"].click(new_images, session, c["results"], api_name="new_images")
    full_range.change(rescale_accuracy, [full_range, session], c["accuracy"], api_name=False)
    chart_inputs = [c["x axis"], c["smoothing"], c["log loss"], c["shown"], full_range, session]
    charts = {name: c[name] for name in CHARTS}
    gr.on(
        [c["x axis"].change, c["smoothing"].change, c["log loss"].change, c["shown"].change],
        by_name(draw_curves, charts), chart_inputs, list(charts.values()), api_name="draw_curves",
        show_progress="hidden", trigger_mode="always_last",
    ).then(
        by_name(redraw_curves, charts), [full_range, session], list(charts.values()), api_name=False,
        show_progress="hidden",
    )  # fmt: skip
    c["chart data"].click(chart_data, session, c["chart file"], api_name="chart_data")
    c["sketch"].change(
        by_name(predict_sketch, sketch_outputs), [c["sketch"], session], list(sketch_outputs.values()),
        api_name="predict_sketch", trigger_mode="always_last", show_progress="hidden", queue=False,
    )  # fmt: skip
    c["own image"].change(
        by_name(predict_image, sketch_outputs), [c["own image"], session], list(sketch_outputs.values()),
        api_name="predict_image", trigger_mode="always_last", show_progress="hidden",
    )  # fmt: skip
    setup["run.dataset"].change(sketch_shown, [setup["run.dataset"], session], c["sketch"], api_name=False)
    drawing_text, reading = gr.Textbox(visible=False), gr.JSON(visible=False)  # /read_digit's input and output
    drawing_text.submit(read_digit, [drawing_text, session], reading, api_name="read_digit", queue=False)


def wire_setup(setup: dict, share: dict, previews: list, epoch_images: gr.Number, session: gr.State) -> None:
    """Previews that follow the settings, and sharing, exporting and importing the setup."""
    setup_inputs = [setup[name] for name in SETUP_FIELDS]
    run_inputs = [setup["run.dataset"], setup["run.train_subset"], setup["run.validation_size"]]
    for setting in run_inputs:
        setting.change(images_per_epoch, [*run_inputs, session], epoch_images, api_name=False, show_progress="hidden")
    for name, parts in zip(NAMES, previews, strict=True):
        for trigger in (parts.augment.change, parts.redraw.click):
            inputs = [parts.augment, setup["run.dataset"], session]
            trigger(augmentation_preview, inputs, parts.gallery, api_name=False, show_progress="hidden")
        gr.on(
            [setup[f"{name}.layers"].change, setup["run.dataset"].change], builder_table,
            [setup[f"{name}.layers"], setup["run.dataset"], session], parts.table,
            api_name=False, show_progress="hidden", trigger_mode="always_last",
        )  # fmt: skip
    gr.on(
        [setup[name].change for name in SETUP_FIELDS], setting_advice, [*setup_inputs, session],
        [parts.advice for parts in previews], api_name=False, show_progress="hidden", trigger_mode="always_last",
    )  # fmt: skip
    gr.on(  # a note on how the setup was set ("A and B now differ only in ...") is no longer true once it is edited
        [setup[name].input for name in SETUP_FIELDS], lambda: "", None, share["note"], api_name=False, queue=False
    )
    share["share"].click(share_token, setup_inputs, share["token"], api_name="share_token").then(
        None, share["token"], share["link"], js=COPY_LINK_JS
    )
    share["export"].click(export_setup, [*setup_inputs, session], share["file"], api_name="export_setup")
    share["import"].upload(import_setup, share["import"], [*setup_inputs, share["note"]], api_name=False)
