"""The page's setup inputs and the config they make, declared once.

Every input that describes a setup has a name in SETUP_FIELDS, in the order
the page (and the positional ``/train`` endpoint) passes them: for model A
then model B the architecture, its 4 channel sizes, its layer list (JSON)
and every TrainConfig field; then every RunConfig field. The UI lays out
one component per name; these functions turn the values into an
ExperimentConfig and back.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import gradio as gr

from cnn_lab.core.builder import layers_from_json, layers_to_json
from cnn_lab.core.config import MODEL_NAMES as NAMES
from cnn_lab.core.config import ConfigError, Conv, ExperimentConfig, ModelConfig, ModelSpec, RunConfig, TrainConfig
from cnn_lab.core.errors import quoted
from cnn_lab.core.presets import PRESETS
from cnn_lab.data.datasets import DATASET_INFO, UPLOADED
from cnn_lab.session import available_devices

CUSTOM = "custom"  # the architecture choice that trains the 4 channel sizes
BUILDER = "builder"  # the architecture choice that trains the builder's layer list
TRAIN_FIELDS = tuple(f.name for f in dataclasses.fields(TrainConfig))
RUN_FIELDS = tuple(f.name for f in dataclasses.fields(RunConfig))
COLUMN_FIELDS = ("architecture", "channels", "layers", *TRAIN_FIELDS)
SETUP_FIELDS = tuple(f"{name}.{field}" for name in NAMES for field in COLUMN_FIELDS) + tuple(
    f"run.{field}" for field in RUN_FIELDS
)

DATASET_CHOICES = [(info.title, key) for key, info in DATASET_INFO.items()] + [("Your data (Data tab)", UPLOADED)]

WHOLE_NUMBER_FIELDS = {"batch_size", "epochs", "patience", "train_subset", "seed", "evals_per_epoch", "validation_size"}
NUMBER_FIELDS = WHOLE_NUMBER_FIELDS | {f for f in TRAIN_FIELDS if isinstance(getattr(TrainConfig(), f), float)}


class RawNumber(gr.Number):
    """Gradio's number box, whose value reaches the handler as it was sent.

    Gradio's own preprocessing rounds 2.5 to 2 in a whole-number box (silently) and fails on 'abc', 'nan' or null
    with a generic error; our checks (config.py) refuse each, naming the field and its range."""

    is_template = True  # drawn by Gradio's own number box

    def preprocess(self, payload: Any) -> Any:
        return payload


def number_from_text(value: Any, name: str) -> Any:
    """API callers may send numbers as text: read it as a number and leave ranges and wholeness to the config."""
    if not isinstance(value, str):
        return value
    try:
        number = float(value)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {quoted(value)}", name) from None
    return int(number) if number.is_integer() else number


def parse_channels(text: str) -> ModelConfig:
    """The simple mode's "16, 32, 64, 64" as a model; the message names the bad channel."""
    parts = [p for p in str(text or "").replace(";", ",").replace(" ", ",").split(",") if p]
    if len(parts) != 4:
        raise ConfigError(
            f"conv channels: give 4 whole numbers from 1 to 1024 separated by commas (e.g. 16, 32, 64, 64), got {quoted(text)}",
            "channels",
        )
    values = []
    for index, part in enumerate(parts, start=1):
        try:
            values.append(int(part))
        except ValueError:
            raise ConfigError(
                f"conv {index} channels must be a whole number from 1 to 1024, got {quoted(part)}",
                f"conv{index}_channels",
            ) from None
    return ModelConfig.from_conv_channels(values)


def model_config(architecture: str, channels: str, layers: str) -> ModelConfig:
    """The layers a column trains: the four channel sizes, a preset's, or the builder's list."""
    if architecture == CUSTOM:
        return parse_channels(channels)
    if architecture == BUILDER:
        return ModelConfig(layers_from_json(layers))
    if architecture in PRESETS:
        return PRESETS[architecture].spec.model
    raise ConfigError(
        f"architecture must be one of {CUSTOM}, {', '.join(PRESETS)}, {BUILDER}, got {quoted(architecture)}",
        "architecture",
    )


def train_config(values: dict[str, Any]) -> TrainConfig:
    """A column's training inputs (by TrainConfig field) as a TrainConfig."""
    return TrainConfig(
        **{name: number_from_text(v, name) if name in NUMBER_FIELDS else v for name, v in values.items()}
    )


def run_config(values: dict[str, Any]) -> RunConfig:
    """The run inputs (by RunConfig field) as a RunConfig; 0 training images means all of them."""
    values = {name: number_from_text(v, name) if name in NUMBER_FIELDS else v for name, v in values.items()}
    values["train_subset"] = values["train_subset"] if values["train_subset"] != 0 else None  # checked by RunConfig
    values["seed"] = values["seed"] or 0
    values["validation_size"] = values["validation_size"] or 0
    values["identical_init"] = bool(values["identical_init"])
    return RunConfig(**values)


def setup_from_values(values: dict[str, Any]) -> ExperimentConfig:
    """The page's values (by SETUP_FIELDS name) as one ExperimentConfig; a bad value raises ConfigError naming its model."""
    specs = []
    for name in NAMES:
        column = {field: values[f"{name}.{field}"] for field in COLUMN_FIELDS}
        try:
            model = model_config(column["architecture"], column["channels"], column["layers"])
            train = train_config({field: column[field] for field in TRAIN_FIELDS})
        except ConfigError as err:
            raise ConfigError(f"Model {name} · {err}", err.field, err.layer) from None
        specs.append(ModelSpec(model, train))
    return ExperimentConfig(*specs, run_config({field: values[f"run.{field}"] for field in RUN_FIELDS}))


def setup_from_list(values: list | tuple) -> ExperimentConfig:
    """The same, for values in SETUP_FIELDS order (as the page and the positional endpoints pass them)."""
    return setup_from_values(dict(zip(SETUP_FIELDS, values, strict=True)))


def train_values(train: TrainConfig) -> list:
    """The inputs that show ``train``, in TRAIN_FIELDS order."""
    return [list(v) if name == "augment" else v for name, v in ((n, getattr(train, n)) for n in TRAIN_FIELDS)]


def conv_channels(model: ModelConfig) -> tuple[int, ...] | None:
    """The four channel sizes of a model that is exactly the Custom architecture's stack, else None."""
    widths = tuple(layer.out_channels for layer in model.layers if isinstance(layer, Conv))
    if len(widths) != 4 or ModelConfig.from_conv_channels(widths).layers != model.layers:
        return None
    return widths


def values_of(setup: ExperimentConfig) -> dict[str, Any]:
    """The page's values for a setup, by SETUP_FIELDS name: a column whose model is the Custom stack shows its four
    channel sizes, any other its builder layer list (the channel box then says it is not used)."""
    values: dict[str, Any] = {}
    for name, spec in zip(NAMES, (setup.a, setup.b)):
        widths = conv_channels(spec.model)
        architecture, channels = (CUSTOM, ", ".join(map(str, widths))) if widths else (BUILDER, "")
        column = [architecture, channels, layers_to_json(spec.model.layers), *train_values(spec.train)]
        values |= {f"{name}.{field}": value for field, value in zip(COLUMN_FIELDS, column, strict=True)}
    run = setup.run.to_dict() | {"train_subset": setup.run.train_subset or 0}
    return values | {f"run.{field}": run[field] for field in RUN_FIELDS}


def api_values(setup: ExperimentConfig) -> list:
    """The positional inputs /train, /share_token and /export_setup take for a setup (SETUP_FIELDS order)."""
    return in_page_order(values_of(setup))


def in_page_order(setup: dict) -> list:
    """The setup's components (or values), keyed by SETUP_FIELDS name, in the page's order: /train's inputs."""
    return [setup[name] for name in SETUP_FIELDS]


def page_values(experiment: ExperimentConfig, note: str) -> list:
    """The page's inputs showing a loaded setup, then ``note``: a column whose model is the Custom stack shows its
    channel sizes, any other switches to the builder (its channel box keeps its text)."""
    values = values_of(experiment)
    values |= {f"{name}.channels": gr.skip() for name in NAMES if not values[f"{name}.channels"]}
    if values["run.device"] not in ("auto", *available_devices()):
        values["run.device"] = "auto"
    return [*in_page_order(values), note]


def unchanged(note=None) -> list:
    """The page's inputs left as they are (and the note, unless one is given)."""
    return [gr.skip()] * len(SETUP_FIELDS) + [gr.skip() if note is None else note]
