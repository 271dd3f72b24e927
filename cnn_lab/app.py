"""The playground page: layout and event wiring only; the engine modules do the work.

Everything a browser session trains lives in its own ``gr.State`` (a
``Session``), created in the handlers, never in a module global.
"""

from __future__ import annotations

import functools
import tempfile
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterator

import gradio as gr
import numpy as np
import pandas as pd
import torch

from .builder import layers_from_json, layers_to_json
from .builder_panel import BUILDER, builder_panel, report_frame
from .config import DEFAULT_CHANNELS, LIMITS, ConfigError, check_epochs, ExperimentConfig, ModelConfig, ModelSpec, RunConfig, TrainConfig
from .data import DATASET_INFO, DataError, Dataset, load_dataset
from .inference import predict_images, sketch_to_mnist
from .models import ModelSummary, summarize
from .plots import network_diagram
from .presets import PRESETS, measured_note
from .runtime import available_devices
from .sharing import QUERY_KEY, experiment_from_token, experiment_to_token
from .training import (
    MAX_FOLDS,
    Contender,
    RunFinished,
    StepEvent,
    augmented_examples,
    check_cross_validation,
    create_contenders,
    cross_validate,
    estimate_cross_validation_s,
    in_background,
    train_models,
)
from .training_panel import DEFAULT_TRAIN_IMAGES, TRAIN_FIELDS, config_values, number_from_text, train_config, training_controls
from .views import (
    ACCURACY_COLORS,
    ACCURACY_FOCUS,
    LOSS_COLORS,
    CrossValidationView,
    RunView,
    checkpoint_frame,
    duration_text,
    results_html,
    summary_frame,
)

NAMES = ("A", "B")
RESULT_IMAGES = 20
UPDATE_EVERY_S = 0.5  # the page is refreshed at most this often while training
AUGMENT_PREVIEW_IMAGES = 8
DEFAULTS = {
    "A": (DEFAULT_CHANNELS, TrainConfig("adam", 0.001, 64, 1)),
    "B": ((8, 16, 32, 32), TrainConfig("sgd", 0.05, 64, 1)),
}
BRUSH_HINT = "Click the **brush** icon under the pad first (Gradio's sketchpad ignores strokes until a tool is picked), then draw one digit, big."

COPY_LINK_JS = """(token) => {
  const url = window.location.origin + window.location.pathname + "?setup=" + token;
  window.history.replaceState(null, "", url);
  if (navigator.clipboard) { navigator.clipboard.writeText(url).catch(() => {}); }
  return url;
}"""

CSS = """
.cnn-mono textarea { font-family: ui-monospace, SFMono-Regular, Menlo, monospace !important; font-size: 13px !important; }
.cnn-grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(118px, 1fr)); gap: 8px; }
.cnn-card { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 6px; text-align: center; font-size: 13px; }
.cnn-card img { width: 84px; height: 84px; image-rendering: pixelated; display: block; margin: 0 auto 4px; }
.cnn-truth { color: var(--body-text-color-subdued); }
.cnn-guess { border-radius: 4px; margin-top: 3px; padding: 1px 4px; font-weight: 600; color: #fff; }
.cnn-right { background: #15803d; }
.cnn-wrong { background: #b91c1c; }
.cnn-layer-row { align-items: center; gap: 6px; }
.cnn-layer-buttons { flex-wrap: nowrap; gap: 4px; }
.cnn-small { min-height: 0 !important; padding: 4px 8px !important; }
.cnn-problem { color: #b91c1c; flex-basis: 100%; }
.cnn-augment img { image-rendering: pixelated; }
"""


@dataclass
class Session:
    """One browser session's models and run; lives in a gr.State."""

    contenders: dict[str, Contender] = field(default_factory=dict)
    summaries: dict[str, ModelSummary] = field(default_factory=dict)
    data: Dataset | None = None
    run: RunConfig | None = None  # of the trained pair; continuing training reuses it
    stop: threading.Event = field(default_factory=threading.Event)
    running: bool = False
    finished: RunFinished | None = None
    view: RunView | None = None  # what the page shows of the latest run

    @property
    def trained(self) -> bool:
        """True once a run has ended (finished or stopped) with at least one training step."""
        return self.finished is not None and any(r.steps > 0 for r in self.finished.results.values())


def parse_channels(text: str) -> ModelConfig:
    """The simple mode's "16, 32, 64, 64" as a model; the message names the bad channel."""
    parts = [p for p in str(text or "").replace(";", ",").replace(" ", ",").split(",") if p]
    if len(parts) != 4:
        raise ConfigError(f"conv channels: give 4 whole numbers from 1 to 1024 separated by commas (e.g. 16, 32, 64, 64), got {text!r}", "channels")
    values = []
    for index, part in enumerate(parts, start=1):
        try:
            values.append(int(part))
        except ValueError:
            raise ConfigError(f"conv {index} channels must be a whole number from 1 to 1024, got {part!r}", f"conv{index}_channels") from None
    return ModelConfig.from_conv_channels(values)


CUSTOM = "custom"
PRESET_CHOICES = (
    [("Custom: the 4 conv channel sizes below", CUSTOM)]
    + [(p.title, p.key) for p in PRESETS.values()]
    + [("Builder: your own layer list", BUILDER)]
)
MODEL_FIELDS = 3 + len(TRAIN_FIELDS)  # architecture, channels, layers (JSON), then every TrainConfig field


def model_config(name: str, architecture: str, channels: str, layers: str) -> ModelConfig:
    """The layers a column trains: the four channel sizes, a preset's, or the builder's list."""
    try:
        if architecture == CUSTOM:
            return parse_channels(channels)
        if architecture == BUILDER:
            return ModelConfig(layers_from_json(layers))
        if architecture in PRESETS:
            return PRESETS[architecture].spec.model
        raise ConfigError(f"architecture must be one of {CUSTOM}, {', '.join(PRESETS)}, {BUILDER}, got {architecture!r}", "architecture")
    except ConfigError as err:
        raise ConfigError(f"Model {name} · {err}", err.field, err.layer) from None


def model_spec(name: str, architecture: str, channels: str, layers: str, *train_values) -> ModelSpec:
    """One column's settings as a ModelSpec."""
    model = model_config(name, architecture, channels, layers)
    try:
        train = train_config(dict(zip(TRAIN_FIELDS, train_values, strict=True)))
    except ConfigError as err:
        raise ConfigError(f"Model {name} · {err}", err.field) from None
    return ModelSpec(model, train)


def architecture_fields(architecture: str, channels: str, layers: str):
    """Picking an architecture fills the builder with its layers and, for a preset, the training settings it was made with."""
    if architecture in PRESETS:
        p = PRESETS[architecture]
        return layers_to_json(p.spec.model.layers), *config_values(p.spec.train), f"{p.about} {measured_note(p.key)}"
    keep = (gr.skip(),) * len(TRAIN_FIELDS)
    if architecture == BUILDER:
        return (gr.skip(), *keep, "Your own stack: edit, add, move or remove layers in the builder below.")
    return (channel_layers(channels, layers), *keep, "Four 3x3 convolutions with ReLU; max-pooling after the 2nd and 4th.")


def channel_layers(channels: str, layers: str) -> str:
    """The builder's mirror of the four channel sizes (unchanged while the text is not yet valid)."""
    try:
        return layers_to_json(parse_channels(channels).layers)
    except ConfigError:
        return layers


def diagram(layers_a: str, layers_b: str):
    configs = {}
    for name, text in (("A", layers_a), ("B", layers_b)):
        try:
            configs[name] = ModelConfig(layers_from_json(text))
        except ConfigError:
            continue  # the validation table says what is wrong
    return network_diagram(configs) if configs else None


def run_config(dataset: str, subset, seed, device: str, precision: str, evals_per_epoch, validation_size, identical_init: bool) -> RunConfig:
    subset = number_from_text(subset, "train_subset")
    return RunConfig(
        dataset,
        int(subset) if subset else None,
        number_from_text(seed, "seed") or 0,
        device,
        precision,
        number_from_text(evals_per_epoch, "evals_per_epoch"),
        number_from_text(validation_size, "validation_size") or 0,
        bool(identical_init),
    )


RUN_FIELDS = 8  # dataset, training images, seed, device, precision, evaluations per epoch, validation images, identical initial weights


def experiment_from_values(*values) -> ExperimentConfig:
    """The page's settings (both columns, then the run) as one shareable ExperimentConfig."""
    a, b = (model_spec(name, *values[i * MODEL_FIELDS : (i + 1) * MODEL_FIELDS]) for i, name in enumerate(NAMES))
    return ExperimentConfig(a, b, run_config(*values[2 * MODEL_FIELDS : 2 * MODEL_FIELDS + RUN_FIELDS]))


def api_values(experiment: ExperimentConfig) -> list:
    """The inputs /train, /share_token and /export_setup take for a setup: each column as a builder layer list, then the run."""
    values = []
    for spec in (experiment.a, experiment.b):
        values += [BUILDER, "", layers_to_json(spec.model.layers), *config_values(spec.train)]
    r = experiment.run
    return values + [r.dataset, r.train_subset or 0, r.seed, r.device, r.precision, r.evals_per_epoch, r.validation_size, r.identical_init]


def values_from_experiment(experiment: ExperimentConfig) -> list:
    """The page's settings for a loaded setup: both columns switch to the builder; their channel boxes keep their text."""
    values = api_values(experiment)
    for channels in (1, MODEL_FIELDS + 1):
        values[channels] = gr.skip()
    device = 2 * MODEL_FIELDS + 3
    if values[device] != "auto" and values[device] not in available_devices():
        values[device] = "auto"
    return values


def page_updates(events: Iterator, view: RunView | CrossValidationView) -> Iterator:
    """Run a training generator on its own thread, fold every event into `view`, and yield whenever the page is due an update:
    at once for evaluations and ends, at most every UPDATE_EVERY_S for steps (and None: a quiet moment)."""
    last = 0.0
    for event in in_background(events, UPDATE_EVERY_S):
        if event is not None:
            view.add(event)
        if isinstance(event, (StepEvent, type(None))) and time.perf_counter() - last < UPDATE_EVERY_S:
            continue
        last = time.perf_counter()
        yield event


def build_app(data_dir: str | None = None, device: str = "auto", max_concurrent_trainings: int = 2) -> gr.Blocks:
    """The playground as a gr.Blocks; playground.py launches it."""

    @functools.lru_cache(maxsize=2)
    def dataset(name: str) -> Dataset:
        return load_dataset(name, data_dir)

    def settings_of(values) -> tuple[dict[str, ModelSpec], RunConfig, Dataset]:
        """Both columns and the run settings, checked against the data they will train on."""
        experiment = experiment_from_values(*values)
        specs, run = {"A": experiment.a, "B": experiment.b}, experiment.run
        data = dataset(run.dataset)
        train_size = run.training_images(len(data.train_labels))
        for name, spec in specs.items():
            run.check_fits(spec.train, train_size, name)
        return specs, run, data

    def stream(session: Session, events, full_range: bool):
        """Relay a run's events to the page; the pair's models stay in the session whatever happens."""
        view = session.view

        def page(results=gr.skip(), summary=gr.skip(), checkpoints=gr.skip()):
            accuracy = gr.LinePlot(view.accuracy_frame(), y_lim=accuracy_range(full_range, session))
            return (
                session, view.status_text(), view.progress_text(), view.loss_frame(), accuracy, view.log_text("A"), view.log_text("B"),
                results, summary, *(view.learning_rate_frame(name) for name in NAMES), checkpoints,
            )  # fmt: skip

        try:
            yield page()
            for event in page_updates(events, view):
                if isinstance(event, RunFinished):
                    session.finished = event
                    session.running = False
                    yield page(sample_results(session), summary_frame(event.results, session.summaries), checkpoint_frame(session.contenders))
                else:
                    yield page()
        except ConfigError as err:  # e.g. a device that is not there
            raise gr.Error(str(err), title="Check the settings") from None
        finally:
            session.stop.set()  # also reached when the tab closes (GeneratorExit at a yield)
            session.running = False

    def start(session: Session | None) -> Session | None:
        """The session, ready for a new run; None (with a warning) while one is going."""
        session = session or Session()
        if session.running:
            gr.Warning("A run is already in progress: press Stop first.")
            return None
        session.stop = threading.Event()
        return session

    def train(*values):
        *setup, full_range, session = values
        try:
            specs, run, data = settings_of(setup)
        except (ConfigError, DataError) as err:
            raise gr.Error(str(err), title="Check the settings") from None
        session = start(session)
        if session is None:
            return
        contenders = create_contenders(specs, run)
        session.running, session.data, session.run, session.finished = True, data, run, None
        session.contenders = {c.name: c for c in contenders}
        session.summaries = {c.name: summarize(c.spec.model, c.module) for c in contenders}
        early = tuple(name for name, spec in specs.items() if spec.train.early_stopping != "off")
        session.view = RunView(list(NAMES), validation=run.validation_size > 0, early_stopping=early)
        yield from stream(session, train_models(contenders, run, data, session.stop), full_range)

    def trained_session(session: Session | None, nothing_yet: str) -> Session:
        """The session of a trained pair, or a clear refusal: busy while a run goes, `nothing_yet` before the first."""
        if session is not None and session.running:
            raise gr.Error("Training is in progress: press Stop first, or wait for it to end.", title="Busy")
        if session is None or not session.contenders or session.finished is None:
            raise gr.Error(f"Train the models first: {nothing_yet}", title="Train first")
        return session

    def continue_training(more_epochs, full_range: bool, session: Session | None):
        session = trained_session(session, "there is nothing to continue yet.")
        try:
            epochs = check_epochs(number_from_text(more_epochs, "more epochs"), "more epochs")
        except ConfigError as err:
            raise gr.Error(str(err), title="Check the settings") from None
        session.stop = threading.Event()
        session.running, session.finished = True, None
        events = train_models(list(session.contenders.values()), session.run, session.data, session.stop, epochs=epochs)
        yield from stream(session, events, full_range)

    def roll_back(name: str, epoch, full_range: bool, session: Session | None):
        session = trained_session(session, "there are no saved epochs yet.")
        contender = session.contenders.get(name)
        if contender is None:
            raise gr.Error(f"model must be one of {', '.join(NAMES)}, got {name!r}", title="Check the settings")
        try:
            contender.restore(number_from_text(epoch, "epoch"))
        except ConfigError as err:
            raise gr.Error(str(err), title="Check the epoch") from None
        session.finished.results[name] = replace(
            session.finished.results[name],
            status=f"rolled back to epoch {contender.epochs_done}",
            test_accuracy=contender.test_accuracy,
            validation_accuracy=contender.validation_accuracy,
            epochs_done=contender.epochs_done,
        )
        view = session.view
        view.truncate(name, contender.images_seen)  # the curves end where the model now is; Continue draws on from there
        accuracy = f"{contender.test_accuracy:.2%}" if contender.test_accuracy is not None else "not evaluated"
        note = f"Model {name} is back at the end of epoch {contender.epochs_done} (test accuracy {accuracy}); Continue trains on from there."
        return (
            note, summary_frame(session.finished.results, session.summaries), sample_results(session), checkpoint_frame(session.contenders),
            view.loss_frame(), gr.LinePlot(view.accuracy_frame(), y_lim=accuracy_range(full_range, session)),
            *(view.learning_rate_frame(n) for n in NAMES),
        )  # fmt: skip

    def run_cross_validation(*values):
        *setup, model_name, folds, subset, session = values
        try:
            if model_name not in NAMES:
                raise ConfigError(f"model must be one of {', '.join(NAMES)}, got {model_name!r}", "model")
            experiment = experiment_from_values(*setup)
            run = replace(experiment.run, train_subset=number_from_text(subset, "train_subset") or None, validation_size=0)
            data = dataset(run.dataset)
            folds = number_from_text(folds, "folds")
            spec = check_cross_validation(experiment.a if model_name == "A" else experiment.b, run, folds, len(data.train_labels))
        except (ConfigError, DataError) as err:
            raise gr.Error(f"Cross-validation · {err}", title="Check the cross-validation settings") from None
        session = start(session)
        if session is None:
            return
        session.running = True
        try:
            try:
                estimate = estimate_cross_validation_s(spec, run, data, folds)
            except ConfigError as err:
                raise gr.Error(f"Cross-validation · {err}", title="Check the cross-validation settings") from None
            gr.Warning(f"Cross-validation of model {model_name} will take about {duration_text(estimate)} here ({folds} folds x {spec.train.epochs} epochs). Press Stop to cancel.")
            images = run.training_images(len(data.train_labels))
            view = CrossValidationView(f"Model {model_name}, {folds}-fold cross-validation on {images:,} training images (estimated {duration_text(estimate)})", folds)
            yield session, view.note(), view.frame()
            for _ in page_updates(cross_validate(spec, run, data, folds, session.stop), view):
                yield session, view.note(), view.frame()
        finally:
            session.stop.set()
            session.running = False

    def augmentation_preview(kinds: list[str], dataset_name: str):
        """A few training images, with their labels, as the model will see them; a new draw every time."""
        try:
            data = dataset(dataset_name)
        except DataError as err:
            raise gr.Error(str(err), title="No data") from None
        images, labels = data.train_images[:AUGMENT_PREVIEW_IMAGES], data.train_labels[:AUGMENT_PREVIEW_IMAGES].tolist()
        shown = augmented_examples(images, tuple(kinds or ()), seed=time.time_ns() % 2**31)
        return [(image.numpy(), data.info.class_names[label]) for image, label in zip(shown, labels, strict=True)]

    def images_per_epoch(dataset_name: str, subset, validation):
        """How many images one epoch trains on with these run settings (unchanged while one is invalid)."""
        try:
            run = RunConfig(dataset_name, number_from_text(subset, "train_subset") or None, validation_size=number_from_text(validation, "validation_size") or 0)
            return run.training_images(len(dataset(run.dataset).train_labels)) - run.validation_size
        except (ConfigError, DataError):
            return gr.skip()

    def stop(session: Session | None) -> str:
        if session is None or not session.running:
            return "Nothing is training."
        session.stop.set()
        return "Stopping after the current batch..."

    def sample_results(session: Session | None) -> str:
        if session is None or not session.trained:
            return "<p>Train the models to see their predictions on test images here.</p>"
        data = session.data
        rng = np.random.default_rng()
        index = rng.choice(len(data.test_labels), RESULT_IMAGES, replace=False)
        images = data.test_images[index]
        probs = predict_images(session.contenders, images, data.info)
        return results_html(images.numpy(), data.test_labels[index].numpy(), probs, data.info.class_names)

    def predict_sketch(sketch, session: Session | None):
        composite = sketch.get("composite") if isinstance(sketch, dict) else sketch
        info = session.data.info if session and session.data else DATASET_INFO["mnist"]
        drawn = sketch_to_mnist(composite)
        if drawn is None:
            return None, None, None, "Nothing drawn yet. " + BRUSH_HINT
        if session is not None and session.running:
            return gr.skip(), gr.skip(), drawn, "Training is in progress; draw again when it finishes."
        if session is None or not session.trained:
            return None, None, drawn, "Train the models first: untrained models only guess with random weights."
        probs = predict_images(session.contenders, torch.from_numpy(drawn)[None], info)
        labels = [{info.class_names[k]: float(p) for k, p in enumerate(probs[name][0])} for name in NAMES]
        return labels[0], labels[1], drawn, "What each model sees and how sure it is."

    def accuracy_range(full: bool, session: Session | None) -> list[float]:
        floor = 0.0 if full else session.view.accuracy_floor() if session and session.view else ACCURACY_FOCUS
        return [floor, 100.0]

    def share_token(*values) -> str:
        try:
            return experiment_to_token(experiment_from_values(*values))
        except ConfigError as err:
            raise gr.Error(f"Cannot share this setup yet: {err}", title="Check the settings") from None

    def export_setup(*values) -> str:
        try:
            text = experiment_from_values(*values).to_json()
        except ConfigError as err:
            raise gr.Error(f"Cannot export this setup yet: {err}", title="Check the settings") from None
        with tempfile.NamedTemporaryFile("w", suffix=".json", prefix="cnn_lab_setup_", delete=False) as file:
            file.write(text)
        return file.name

    def import_setup(path: str | None):
        try:
            experiment = ExperimentConfig.from_json(Path(path).read_text(encoding="utf-8"))
        except (ConfigError, OSError, UnicodeDecodeError, TypeError) as err:
            gr.Warning(f"Could not import that file: {err}. The page keeps its settings.")
            return [gr.skip()] * (2 * MODEL_FIELDS + RUN_FIELDS) + [gr.skip()]
        return values_from_experiment(experiment) + ["Setup imported."]

    def restore_from_link(request: gr.Request):
        token = request.query_params.get(QUERY_KEY) if request else None
        if not token:
            return [gr.skip()] * (2 * MODEL_FIELDS + RUN_FIELDS) + [gr.skip()]
        try:
            experiment = experiment_from_token(token)
        except ConfigError as err:
            gr.Warning(f"{err}. Showing the default setup instead.")
            return [gr.skip()] * (2 * MODEL_FIELDS + RUN_FIELDS) + [f"The shared link could not be read ({err}); these are the defaults."]
        return values_from_experiment(experiment) + ["Setup restored from the shared link."]

    def rescale_accuracy(full: bool, session: Session | None):
        return gr.LinePlot(y_lim=accuracy_range(full, session))

    with gr.Blocks(title="cnn_lab: CNN training playground") as demo:
        session = gr.State(None)
        gr.Markdown("# cnn_lab\nConfigure two small CNNs, train them side by side on the same batches, and compare.")
        status = gr.Markdown("Ready. Press **Train Models**.")
        model_inputs, layer_boxes, augment_previews = [], [], []
        epoch_images = gr.Number(DEFAULT_TRAIN_IMAGES, visible=False)  # images per epoch of the run, for the schedule previews
        with gr.Row():
            for name in NAMES:
                default_channels, default_train = DEFAULTS[name]
                with gr.Column(variant="panel"):
                    gr.Markdown(f"### Model {name}")
                    architecture = gr.Dropdown(PRESET_CHOICES, value=CUSTOM, label="Architecture")
                    about = gr.Markdown(architecture_fields(CUSTOM, "", "")[-1])
                    channel_text = ", ".join(map(str, default_channels))
                    channels = gr.Textbox(channel_text, label="Conv2D channel sizes for all 4 layers", info="used when the architecture is Custom")
                    layers = gr.Textbox(channel_layers(channel_text, "[]"), visible=False, label=f"Layers of model {name} (JSON)")
                    controls, gallery, redraw = training_controls(name, default_train, epoch_images)
                    augment_previews.append((controls["augment"], gallery, redraw))
                    with gr.Accordion(f"Layer builder, model {name}", open=False):
                        table = builder_panel(name, layers, architecture)
                    train_inputs = [controls[f] for f in TRAIN_FIELDS]
                    architecture.change(architecture_fields, [architecture, channels, layers], [layers, *train_inputs, about], api_name=False)
                    channels.change(
                        lambda arch, text, current: channel_layers(text, current) if arch == CUSTOM else gr.skip(), [architecture, channels, layers], layers, api_name=False
                    )
                    layers.change(report_frame, layers, table, api_name=False, show_progress="hidden")
                    layer_boxes.append(layers)
                    model_inputs += [architecture, channels, layers, *train_inputs]
        gr.Markdown("**The two networks, layer by layer** (a block's height shows its activation volume)")
        network = gr.Plot(diagram(*(box.value for box in layer_boxes)), show_label=False)
        for box in layer_boxes:
            box.change(diagram, layer_boxes, network, api_name=False, show_progress="hidden")
        with gr.Accordion("Data, validation and hardware (shared by both models)", open=False):
            with gr.Row():
                dataset_choice = gr.Dropdown([("MNIST", "mnist"), ("Fashion-MNIST", "fashion_mnist")], value="mnist", label="Dataset")
                run_inputs = [
                    dataset_choice,
                    gr.Number(0, label="Training images (0 = all)", precision=0),
                    gr.Number(0, label="Seed", precision=0, info="same seed and settings: the same curves"),
                    gr.Dropdown(["auto", *available_devices()], value=device, label="Device", info="auto: CUDA, MPS, CPU"),
                    gr.Dropdown(["auto", "fp32", "bf16"], value="auto", label="Precision", info="auto: bf16 if fast"),
                    gr.Number(3, label="Test evaluations per epoch", precision=0, info="1 to 10: points on the test curve"),
                ]
            with gr.Row():
                run_inputs += [
                    gr.Number(0, label="Validation images (0 = none)", precision=0, info="held out of the training images, e.g. 5000; early stopping needs them"),
                    gr.Checkbox(True, label="Identical initial weights", info="A and B with the same architecture start from the same weights, so only the settings differ"),
                ]
        with gr.Accordion("Share and reuse this setup", open=False):
            with gr.Row():
                share_btn = gr.Button("Copy share link")
                export_btn = gr.Button("Export setup (JSON)")
                import_btn = gr.UploadButton("Import setup (JSON)", file_types=[".json"], type="filepath")
            with gr.Row():
                share_link = gr.Textbox(label="Share link (opens this exact setup)", interactive=False, buttons=["copy"], scale=2, elem_id="share-link")
                export_file = gr.File(label="Setup file", interactive=False, height=90)
        setup_note = gr.Markdown("")
        token_box = gr.Textbox(visible=False)
        with gr.Row():
            train_btn = gr.Button("Train Models", variant="primary")
            stop_btn = gr.Button("Stop", variant="stop")
        progress = gr.Textbox(label="Progress", lines=2, max_lines=2, interactive=False, elem_classes="cnn-mono")
        with gr.Row():
            loss_plot = gr.LinePlot(x="images", y="loss", color="model", title="Training loss (smoothed)", x_title="images seen", color_map=LOSS_COLORS, height=300)
            accuracy_plot = gr.LinePlot(
                x="images", y="accuracy", color="curve", title="Accuracy (%)", x_title="images seen", y_title="accuracy %", y_lim=[90, 100], color_map=ACCURACY_COLORS, height=300
            )
        full_range = gr.Checkbox(False, label="Show the full accuracy range (0-100%)")
        with gr.Row():  # one chart per model: their rates can differ by orders of magnitude
            learning_rate_plots = [
                gr.LinePlot(
                    x="images", y="learning rate", color="model", title=f"Learning rate, model {name} (live)", x_title="images seen", color_map=LOSS_COLORS, height=200
                )
                for name in NAMES
            ]
        with gr.Row():
            logs = [gr.Textbox(label=f"Log, model {name} (newest first)", lines=10, max_lines=10, interactive=False, elem_classes="cnn-mono") for name in NAMES]
        gr.Markdown("## Results")
        summary = gr.Dataframe(pd.DataFrame(columns=["", "Model A", "Model B"]), label="Side by side", interactive=False)
        results = gr.HTML("<p>Train the models to see their predictions on test images here.</p>")
        new_images = gr.Button("New images")
        gr.Markdown("## Checkpoints: continue or roll back")
        gr.Markdown("Every finished epoch of each model is kept. Continue trains both models on from where they are (each with its own settings from the run; its schedule starts again over the new epochs); roll back returns one model to an earlier epoch.")
        with gr.Row():
            more_epochs = gr.Number(1, label="More epochs", precision=0, info=f"1 to {LIMITS.max_epochs}")
            continue_btn = gr.Button("Continue training", variant="secondary")
            rollback_model = gr.Radio(list(NAMES), value="A", label="Model to roll back")
            rollback_epoch = gr.Number(1, label="Back to epoch", precision=0, info="one of the saved epochs below")
            rollback_btn = gr.Button("Roll back")
        checkpoint_note = gr.Markdown("")
        checkpoints = gr.Dataframe(checkpoint_frame({}), label="Saved epochs", interactive=False)
        with gr.Accordion("Cross-validation (k-fold) of one model", open=False):
            gr.Markdown(
                "Trains the model k times from the same initial weights, each time validating on a different k-th of the images, "
                "and reports the mean and spread of validation accuracy: how much a score depends on the split. "
                "It costs k trainings; you get a time estimate before it starts."
            )
            with gr.Row():
                cv_model = gr.Radio(list(NAMES), value="A", label="Model")
                cv_folds = gr.Number(5, label="Folds (k)", precision=0, info=f"2 to {MAX_FOLDS}")
                cv_images = gr.Number(5000, label="Training images", precision=0, info="split into k folds (0 = all); smaller is faster")
                cv_btn = gr.Button("Run cross-validation")
            cv_status = gr.Markdown("")
            cv_table = gr.Dataframe(pd.DataFrame(columns=CrossValidationView.COLUMNS), label="Folds", interactive=False)
        gr.Markdown("## Draw your own digit")
        with gr.Row(equal_height=False):
            sketch = gr.Sketchpad(
                min_width=320,
                scale=2,
                canvas_size=(280, 280),
                image_mode="L",
                type="numpy",
                layers=False,
                brush=gr.Brush(colors=["#000000"], color_mode="fixed", default_size=14),
                label="Draw a digit",
                elem_id="sketchpad",
            )
            with gr.Column(scale=1, min_width=200):
                sketch_note = gr.Markdown(BRUSH_HINT)
                preview = gr.Image(label="Model input (28x28)", image_mode="L", height=160, width=160, interactive=False, buttons=[])
            labels = []
            for name in NAMES:
                with gr.Column(min_width=160):  # reserves the labels' width at load, so the sketchpad keeps its size
                    labels.append(gr.Label(num_top_classes=10, label=f"Model {name}"))

        run_outputs = [session, status, progress, loss_plot, accuracy_plot, *logs, results, summary, *learning_rate_plots, checkpoints]
        training = dict(concurrency_limit=max_concurrent_trainings, concurrency_id="training", show_progress="minimal", show_progress_on=[status])
        train_btn.click(train, inputs=[*model_inputs, *run_inputs, full_range, session], outputs=run_outputs, api_name="train", **training)
        continue_btn.click(continue_training, inputs=[more_epochs, full_range, session], outputs=run_outputs, api_name="continue_training", **training)
        rollback_btn.click(
            roll_back, inputs=[rollback_model, rollback_epoch, full_range, session],
            outputs=[checkpoint_note, summary, results, checkpoints, loss_plot, accuracy_plot, *learning_rate_plots], api_name="roll_back",
        )  # fmt: skip
        cv_btn.click(
            run_cross_validation, inputs=[*model_inputs, *run_inputs, cv_model, cv_folds, cv_images, session], outputs=[session, cv_status, cv_table],
            api_name="cross_validate", concurrency_limit=max_concurrent_trainings, concurrency_id="training", show_progress="minimal", show_progress_on=[cv_status],
        )  # fmt: skip
        stop_btn.click(stop, inputs=session, outputs=status, api_name="stop", queue=False)
        for setting in run_inputs[:2] + run_inputs[6:7]:  # dataset, training images, validation images
            setting.change(images_per_epoch, [run_inputs[0], run_inputs[1], run_inputs[6]], epoch_images, api_name=False, show_progress="hidden")
        for kinds, gallery, redraw in augment_previews:
            for trigger in (kinds.change, redraw.click):
                trigger(augmentation_preview, [kinds, dataset_choice], gallery, api_name=False, show_progress="hidden")
        setup_inputs = [*model_inputs, *run_inputs]
        share_btn.click(share_token, setup_inputs, token_box, api_name="share_token").then(
            None, token_box, share_link, js=COPY_LINK_JS
        )
        export_btn.click(export_setup, setup_inputs, export_file, api_name="export_setup")
        import_btn.upload(import_setup, import_btn, [*setup_inputs, setup_note], api_name=False)
        demo.load(restore_from_link, None, [*setup_inputs, setup_note], api_name=False)
        new_images.click(sample_results, inputs=session, outputs=results, api_name="new_images")
        full_range.change(rescale_accuracy, inputs=[full_range, session], outputs=accuracy_plot, api_name=False)
        sketch.change(
            predict_sketch,
            inputs=[sketch, session],
            outputs=[*labels, preview, sketch_note],
            api_name="predict_sketch",
            trigger_mode="always_last",
            show_progress="hidden",
        )
    return demo

