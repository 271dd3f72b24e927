"""The two models' setup: their columns, the shared run settings, previews that follow them, and sharing."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import gradio as gr

from cnn_lab.core.builder import layers_to_json
from cnn_lab.core.config import LIMITS, ConfigError, ExperimentConfig, ModelConfig, RunConfig
from cnn_lab.core.presets import DEFAULT_TRAIN_IMAGES, PRESETS, default_experiment, measured_note
from cnn_lab.core.sharing import MAX_JSON_BYTES, QUERY_KEY, experiment_from_token, experiment_to_token
from cnn_lab.data.datasets import DataError
from cnn_lab.data.pictures import displayable
from cnn_lab.session import NAMES, Session, available_devices
from cnn_lab.ui.parts.checked import Checkbox, Dropdown
from cnn_lab.ui.parts.downloads import download_folder
from cnn_lab.ui.parts.fields import (
    BUILDER,
    CUSTOM,
    DATASET_CHOICES,
    TRAIN_FIELDS,
    RawNumber,
    in_page_order,
    number_from_text,
    page_values,
    parse_channels,
    setup_from_list,
    train_values,
    unchanged,
)
from cnn_lab.ui.parts.wiring import escaped, user_errors
from cnn_lab.ui.train.builder_panel import builder_panel
from cnn_lab.ui.train.training_panel import training_controls
from cnn_lab.views.tables import report_frame

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


def run_plan(*values):
    """The status line before a run: what Train Models will do with the page's settings (unchanged while a value
    is invalid: the fields say why)."""
    *values, session = values
    try:
        return f"Ready. **Train Models** trains {session.training.plan_words(setup_from_list(values))}."
    except (ConfigError, DataError):
        return gr.skip()


def augmentation_preview(kinds: list[str], dataset: str, session: Session):
    """A few training images, with their labels, as the model will see them; a new draw every time."""
    with user_errors():
        shown = session.datasets.augmentation_preview(tuple(kinds or ()), dataset)
        return [(displayable(image), label) for image, label in shown]  # a gallery takes colour as H x W x C


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


def wire_setup(setup: dict, share: dict, previews: list, epoch_images: gr.Number, session: gr.State) -> None:
    """Previews that follow the settings, and sharing, exporting and importing the setup."""
    setup_inputs = in_page_order(setup)
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
        [field.change for field in setup_inputs], setting_advice, [*setup_inputs, session],
        [parts.advice for parts in previews], api_name=False, show_progress="hidden", trigger_mode="always_last",
    )  # fmt: skip
    gr.on(  # a note on how the setup was set ("A and B now differ only in ...") is no longer true once it is edited
        [field.input for field in setup_inputs], lambda: "", None, share["note"], api_name=False, queue=False
    )
    share["share"].click(share_token, setup_inputs, share["token"], api_name="share_token").then(
        None, share["token"], share["link"], js=COPY_LINK_JS
    )
    share["export"].click(export_setup, [*setup_inputs, session], share["file"], api_name="export_setup")
    share["import"].upload(import_setup, share["import"], [*setup_inputs, share["note"]], api_name=False)
