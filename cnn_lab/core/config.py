"""What to build and how to train it, as plain validated dataclasses.

A model is a list of layers (like torchvision's VGG ``cfg`` lists). Every
config is checked once, at construction, with shape inference through every
layer, so the rest of the code can trust it. Every config round-trips
through a plain dict (and so JSON), which sharing and history build on.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from cnn_lab.core.errors import ConfigError, quoted
from cnn_lab.core.strict_json import load_json

Shape = tuple[int, ...]  # (C, H, W) before flattening, (F,) after


@dataclass(frozen=True)
class Limits:
    """Upper bounds on what a user may ask for; public hosting can tighten them."""

    max_channels: int = 1024
    max_features: int = 8192
    max_kernel: int = 11
    max_layers: int = 40
    max_params: int = 5_000_000
    max_epochs: int = 50
    max_batch_size: int = 4096
    max_learning_rate: float = 10.0


LIMITS = Limits()

ACTIVATIONS = ("relu", "leaky_relu", "elu", "gelu", "silu", "tanh", "sigmoid")
POOL_MODES = ("max", "avg")
PRECISIONS = ("auto", "fp32", "bf16")
DEVICES = ("auto", "cpu", "cuda", "mps")
DATASETS = (
    "mnist",
    "fashion_mnist",
    "kmnist",
    "emnist_digits",
    "emnist_letters",
    "cifar10",
    "quickdraw",
    "custom",
)  # data.DATASET_INFO and UPLOADED


def _check_int(value: Any, name: str, low: int, high: int, layer: int | None = None, what: str = "") -> int:
    where = f"layer {layer} ({what}): " if layer is not None else ""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or (isinstance(value, float) and not value.is_integer())
    ):
        raise ConfigError(
            f"{where}{name} must be a whole number from {low} to {high}, got {quoted(value)}", name, layer
        )
    if not low <= value <= high:
        raise ConfigError(f"{where}{name} must be from {low} to {high}, got {quoted(value)}", name, layer)
    return int(value)


def _check_choice(value: Any, name: str, choices: Sequence[str], layer: int | None = None, what: str = "") -> str:
    if value not in choices:
        where = f"layer {layer} ({what}): " if layer is not None else ""
        raise ConfigError(f"{where}{name} must be one of {', '.join(choices)}, got {quoted(value)}", name, layer)
    return value


# ---------------------------------------------------------------- layers


@dataclass(frozen=True)
class Conv:
    """2-D convolution; ``padding`` keeps the border, ``stride`` shrinks the image."""

    out_channels: int
    kernel: int = 3
    stride: int = 1
    padding: int = 1
    type: ClassVar[str] = "conv"

    def describe(self) -> str:
        return f"conv {self.kernel}x{self.kernel}, {self.out_channels} channels"

    def output_shape(self, shape: Shape, layer: int) -> Shape:
        _check_int(self.out_channels, "out_channels", 1, LIMITS.max_channels, layer, "conv")
        _check_int(self.kernel, "kernel", 1, LIMITS.max_kernel, layer, "conv")
        _check_int(self.stride, "stride", 1, 8, layer, "conv")
        _check_int(self.padding, "padding", 0, self.kernel // 2 + 1, layer, "conv")
        _, h, w = _spatial(shape, layer, self.describe())
        if self.kernel > min(h, w) + 2 * self.padding:
            raise ConfigError(
                f"layer {layer}, {self.describe()}: its input is only {h}x{w}; "
                "use a smaller kernel, padding, or remove a pooling layer above",
                "kernel",
                layer,
            )
        out_h = (h + 2 * self.padding - self.kernel) // self.stride + 1
        out_w = (w + 2 * self.padding - self.kernel) // self.stride + 1
        return (self.out_channels, out_h, out_w)

    def param_count(self, shape: Shape) -> int:
        return shape[0] * self.out_channels * self.kernel**2 + self.out_channels


@dataclass(frozen=True)
class Pool:
    """Max or average pooling; ``stride`` defaults to the kernel (no overlap)."""

    mode: str = "max"
    kernel: int = 2
    stride: int | None = None
    type: ClassVar[str] = "pool"

    @property
    def step(self) -> int:
        return self.stride or self.kernel

    def describe(self) -> str:
        return f"{self.mode} pool {self.kernel}x{self.kernel}"

    def output_shape(self, shape: Shape, layer: int) -> Shape:
        _check_choice(self.mode, "mode", POOL_MODES, layer, "pool")
        _check_int(self.kernel, "kernel", 1, LIMITS.max_kernel, layer, "pool")
        if self.stride is not None:
            _check_int(self.stride, "stride", 1, LIMITS.max_kernel, layer, "pool")
        c, h, w = _spatial(shape, layer, self.describe())
        if self.kernel > min(h, w):
            raise ConfigError(
                f"layer {layer}, {self.describe()}: its input is only {h}x{w}; "
                "use a smaller kernel or remove a pooling layer above",
                "kernel",
                layer,
            )
        return (c, (h - self.kernel) // self.step + 1, (w - self.kernel) // self.step + 1)

    def param_count(self, shape: Shape) -> int:
        return 0


@dataclass(frozen=True)
class BatchNorm:
    """Batch normalisation over channels (2-D) or features (after flatten)."""

    type: ClassVar[str] = "batchnorm"

    def describe(self) -> str:
        return "batch norm"

    def output_shape(self, shape: Shape, layer: int) -> Shape:
        return shape

    def param_count(self, shape: Shape) -> int:
        return 2 * shape[0]


@dataclass(frozen=True)
class Dropout:
    """Zeroes a fraction ``p`` of activations while training."""

    p: float = 0.25
    type: ClassVar[str] = "dropout"

    def describe(self) -> str:
        return f"dropout {self.p}"

    def output_shape(self, shape: Shape, layer: int) -> Shape:
        if isinstance(self.p, bool) or not isinstance(self.p, (int, float)) or not 0 <= self.p < 1:
            raise ConfigError(
                f"layer {layer} (dropout): p must be at least 0 and below 1, got {quoted(self.p)}", "p", layer
            )
        return shape

    def param_count(self, shape: Shape) -> int:
        return 0


@dataclass(frozen=True)
class Activation:
    """A non-linearity: without one, stacked layers collapse into one linear map."""

    kind: str = "relu"
    type: ClassVar[str] = "activation"

    def describe(self) -> str:
        return self.kind

    def output_shape(self, shape: Shape, layer: int) -> Shape:
        _check_choice(self.kind, "kind", ACTIVATIONS, layer, "activation")
        return shape

    def param_count(self, shape: Shape) -> int:
        return 0


@dataclass(frozen=True)
class Flatten:
    """Turns feature maps into one vector for linear layers."""

    type: ClassVar[str] = "flatten"

    def describe(self) -> str:
        return "flatten"

    def output_shape(self, shape: Shape, layer: int) -> Shape:
        return (math.prod(shape),)

    def param_count(self, shape: Shape) -> int:
        return 0


@dataclass(frozen=True)
class Linear:
    """Fully connected layer; needs a flat input (a flatten layer above it)."""

    out_features: int
    type: ClassVar[str] = "linear"

    def describe(self) -> str:
        return f"linear {self.out_features}"

    def output_shape(self, shape: Shape, layer: int) -> Shape:
        _check_int(self.out_features, "out_features", 1, LIMITS.max_features, layer, "linear")
        if len(shape) != 1:
            raise ConfigError(
                f"layer {layer}, {self.describe()}: its input is still {_fmt(shape)} feature maps; add a flatten layer above it",
                "type",
                layer,
            )
        return (self.out_features,)

    def param_count(self, shape: Shape) -> int:
        return shape[0] * self.out_features + self.out_features


Layer = Conv | Pool | BatchNorm | Dropout | Activation | Flatten | Linear
LAYER_TYPES: dict[str, type] = {cls.type: cls for cls in (Conv, Pool, BatchNorm, Dropout, Activation, Flatten, Linear)}


def _spatial(shape: Shape, layer: int, what: str) -> Shape:
    if len(shape) != 3:
        raise ConfigError(
            f"layer {layer}, {what}: needs feature maps but comes after a flatten; move it above the flatten",
            "type",
            layer,
        )
    return shape


def _fmt(shape: Shape) -> str:
    return "x".join(str(s) for s in shape)


def layer_to_dict(layer: Layer) -> dict[str, Any]:
    return {"type": layer.type, **dataclasses.asdict(layer)}


def layer_from_dict(data: dict[str, Any], index: int) -> Layer:
    if not isinstance(data, dict):
        raise ConfigError(f"layer {index}: must be an object with a 'type', got {quoted(data)}", "type", index)
    kind = data.get("type")
    if kind not in LAYER_TYPES:
        raise ConfigError(
            f"layer {index}: type must be one of {', '.join(LAYER_TYPES)}, got {quoted(kind)}", "type", index
        )
    cls = LAYER_TYPES[kind]
    fields = {f.name for f in dataclasses.fields(cls)}
    values = {k: v for k, v in data.items() if k != "type"}
    unknown = set(values) - fields
    if unknown:
        raise ConfigError(
            f"layer {index} ({kind}): unknown field {quoted(sorted(unknown)[0])}; allowed: {', '.join(sorted(fields)) or 'none'}",
            sorted(unknown)[0],
            index,
        )
    try:
        return cls(**values)
    except TypeError as err:
        raise ConfigError(f"layer {index} ({kind}): {err}", "type", index) from None


# ---------------------------------------------------------------- model


@dataclass(frozen=True)
class ModelConfig:
    """A network as a list of layers; the builder appends the classifier (flatten if needed + linear)."""

    layers: tuple[Layer, ...]
    input_shape: Shape = (1, 28, 28)
    num_classes: int = 10

    def __post_init__(self) -> None:
        for name in ("layers", "input_shape"):
            if not isinstance(getattr(self, name), (list, tuple)):
                raise ConfigError(f"{name} must be a list, got {quoted(getattr(self, name))}", name)
        object.__setattr__(self, "layers", tuple(self.layers))
        object.__setattr__(self, "input_shape", tuple(self.input_shape))
        if len(self.layers) > LIMITS.max_layers:
            raise ConfigError(
                f"layers: at most {LIMITS.max_layers} layers are allowed, got {len(self.layers)}", "layers"
            )
        _check_int(self.num_classes, "num_classes", 2, 1000)
        if len(self.input_shape) != 3 or any(not isinstance(s, int) or s < 1 for s in self.input_shape):
            raise ConfigError(
                f"input_shape must be (channels, height, width) of positive sizes, got {quoted(self.input_shape)}",
                "input_shape",
            )
        params = sum(p for _, _, p in self.layer_table()) + self.classifier_params()
        if params > LIMITS.max_params:
            raise ConfigError(
                f"parameters: the model has {params:,} parameters; at most {LIMITS.max_params:,} are allowed "
                "(use fewer channels, more pooling or a smaller linear layer)",
                "parameters",
            )

    def layer_table(self) -> list[tuple[Layer, Shape, int]]:
        """Each layer with its output shape and parameter count (shape inference; raises on a bad layer)."""
        rows, shape = [], self.input_shape
        for index, layer in enumerate(self.layers, start=1):
            if not isinstance(layer, tuple(LAYER_TYPES.values())):
                raise ConfigError(f"layer {index}: not a layer: {quoted(layer)}", "type", index)
            out = layer.output_shape(shape, index)
            if min(out) < 1:
                raise ConfigError(
                    f"layer {index}, {layer.describe()}: shrinks the image below 1x1 (output {_fmt(out)}); "
                    "remove a pooling layer or add padding",
                    "kernel",
                    index,
                )
            rows.append((layer, out, layer.param_count(shape)))
            shape = out
        return rows

    @property
    def feature_shape(self) -> Shape:
        """Shape reaching the classifier."""
        table = self.layer_table()
        return table[-1][1] if table else self.input_shape

    def classifier_params(self) -> int:
        return math.prod(self.feature_shape) * self.num_classes + self.num_classes

    @property
    def param_count(self) -> int:
        return sum(p for _, _, p in self.layer_table()) + self.classifier_params()

    @classmethod
    def from_conv_channels(cls, channels: Sequence[int], **kwargs: Any) -> ModelConfig:
        """The seed playground's simple mode: 3x3 convs + ReLU, max-pool after the 2nd and 4th, a linear head."""
        layers: list[Layer] = []
        for index, width in enumerate(channels, start=1):
            if (
                isinstance(width, bool)
                or not isinstance(width, (int, float))
                or width != int(width)
                or not 1 <= width <= LIMITS.max_channels
            ):
                raise ConfigError(
                    f"conv {index} channels must be a whole number from 1 to {LIMITS.max_channels}, got {quoted(width)}",
                    f"conv{index}_channels",
                )
            layers += [Conv(int(width)), Activation("relu")]
            if index % 2 == 0:
                layers.append(Pool("max", 2))
        return cls(tuple(layers), **kwargs)

    def to_dict(self) -> dict[str, Any]:
        return {
            "input_shape": list(self.input_shape),
            "num_classes": self.num_classes,
            "layers": [layer_to_dict(layer) for layer in self.layers],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        _no_unknown_keys(data, {"input_shape", "num_classes", "layers"}, "model")
        layers = data.get("layers")
        if not isinstance(layers, list):
            raise ConfigError(f"layers must be a list, got {quoted(layers)}", "layers")
        return cls(
            tuple(layer_from_dict(item, i) for i, item in enumerate(layers, start=1)),
            input_shape=tuple(data.get("input_shape", (1, 28, 28))),
            num_classes=data.get("num_classes", 10),
        )


MODEL_NAMES = ("A", "B")  # the two models an experiment compares, as every page, log and file names them
DEFAULT_CHANNELS = (8, 16, 32, 32)  # the page's model A (presets.default_experiment)


def default_model() -> ModelConfig:
    return ModelConfig.from_conv_channels(DEFAULT_CHANNELS)


# ---------------------------------------------------------------- training

OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop", "adadelta")
SCHEDULES = ("constant", "step", "exponential", "cosine", "onecycle")
LOSSES = ("cross_entropy", "label_smoothing", "hinge", "mse")
AUGMENTATIONS = ("rotate", "shift", "scale", "stroke", "elastic", "erase", "flip", "crop")
DEFAULT_AUGMENTATIONS = ("rotate", "shift", "scale", "stroke")  # what ``augment=True`` means
EARLY_STOPPING = ("off", "val_loss", "val_accuracy")

# The usual starting values of each optimizer (PyTorch's defaults, and the rate that suits it on MNIST):
TYPICAL_LEARNING_RATE = {"adam": 1e-3, "adamw": 1e-3, "sgd": 0.01, "rmsprop": 1e-3, "adadelta": 1.0}
TYPICAL_MOMENTUM = {"sgd": 0.9, "rmsprop": 0.0}
TYPICAL_WEIGHT_DECAY = {"adamw": 0.01}


@dataclass(frozen=True)
class TrainConfig:
    """How one model is trained; A and B may differ in every field.

    ``momentum`` and ``weight_decay`` left as None take the optimizer's usual
    value (SGD momentum 0.9, AdamW decay 0.01, otherwise 0), so a config that
    names only an optimizer trains the way that optimizer is normally used.
    """

    optimizer: str = "adam"
    learning_rate: float = 1e-3
    batch_size: int = 64
    epochs: int = 1
    augment: tuple[str, ...] | bool = ()  # any of AUGMENTATIONS; True means DEFAULT_AUGMENTATIONS
    schedule: str = "constant"
    weight_decay: float | None = None  # L2 penalty (decoupled for AdamW)
    momentum: float | None = None  # SGD and RMSprop
    nesterov: bool = False  # SGD with momentum
    beta1: float = 0.9  # Adam/AdamW: averaging of gradients
    beta2: float = 0.999  # Adam/AdamW: averaging of squared gradients
    alpha: float = 0.99  # RMSprop: averaging of squared gradients
    warmup_epochs: float = 0.0  # linear warm-up from 1% of the rate; one-cycle: the length of its rise
    gamma: float = 0.7  # step: factor every decay_every epochs; exponential: factor per epoch
    decay_every: float = 1.0  # epochs between two steps of the step schedule
    loss: str = "cross_entropy"
    label_smoothing: float = 0.1  # used by the label_smoothing loss
    normalize: bool = True  # subtract the dataset mean and divide by its std; off: pixels in [0, 1]
    early_stopping: str = "off"  # needs a validation split (RunConfig.validation_size)
    patience: int = 2  # epochs without improvement before an early stop

    def __post_init__(self) -> None:
        _check_choice(self.optimizer, "optimizer", OPTIMIZERS)
        _check_choice(self.schedule, "schedule", SCHEDULES)
        _check_choice(self.loss, "loss", LOSSES)
        _check_choice(self.early_stopping, "early_stopping", EARLY_STOPPING)
        lr = self.learning_rate
        if (
            isinstance(lr, bool)
            or not isinstance(lr, (int, float))
            or not 0 < lr <= LIMITS.max_learning_rate
            or not math.isfinite(lr)
        ):
            raise ConfigError(
                f"learning_rate must be above 0 and at most {LIMITS.max_learning_rate:g}, got {quoted(lr)}",
                "learning_rate",
            )

        def store(name: str, value: Any) -> None:  # the dataclass is frozen; validation normalises values once, here
            object.__setattr__(self, name, value)

        store("learning_rate", float(lr))
        store("batch_size", _check_int(self.batch_size, "batch_size", 1, LIMITS.max_batch_size))
        store("epochs", check_epochs(self.epochs))
        store("augment", _check_augmentations(self.augment))
        weight_decay = TYPICAL_WEIGHT_DECAY.get(self.optimizer, 0.0) if self.weight_decay is None else self.weight_decay
        momentum = TYPICAL_MOMENTUM.get(self.optimizer, 0.0) if self.momentum is None else self.momentum
        store("weight_decay", _check_float(weight_decay, "weight_decay", 0, 1))
        store("momentum", _check_float(momentum, "momentum", 0, 1, below_high=True))
        for name in ("beta1", "beta2", "alpha"):
            store(name, _check_float(getattr(self, name), name, 0, 1, below_high=True))
        store("warmup_epochs", _check_float(self.warmup_epochs, "warmup_epochs", 0, self.epochs, below_high=True))
        store("gamma", _check_float(self.gamma, "gamma", 0, 1, above_low=True))
        store("decay_every", _check_float(self.decay_every, "decay_every", 0, LIMITS.max_epochs, above_low=True))
        store(
            "label_smoothing",
            _check_float(self.label_smoothing, "label_smoothing", 0, 1, above_low=True, below_high=True),
        )
        store("patience", _check_int(self.patience, "patience", 1, LIMITS.max_epochs))
        for name in ("nesterov", "normalize"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"{name} must be true or false, got {quoted(getattr(self, name))}", name)
        if self.nesterov and self.optimizer == "sgd" and self.momentum == 0:
            raise ConfigError("nesterov needs a momentum above 0 (and below 1), got momentum 0", "momentum")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self) | {"augment": list(self.augment)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        _no_unknown_keys(data, {f.name for f in dataclasses.fields(cls)}, "training")
        return cls(**data)


MAX_FOLDS = 10  # k of a k-fold cross-validation, at most


def check_epochs(value: Any, name: str = "epochs") -> int:
    """A number of epochs within the limits (a run's, or the extra epochs of a continued run)."""
    return _check_int(value, name, 1, LIMITS.max_epochs)


def _check_float(
    value: Any, name: str, low: float, high: float, above_low: bool = False, below_high: bool = False
) -> float:
    """A finite number in [low, high]; ``above_low`` / ``below_high`` make that end open."""
    lower = f"above {low:g}" if above_low else f"at least {low:g}"
    upper = f"below {high:g}" if below_high else f"at most {high:g}"
    ok = not isinstance(value, bool) and isinstance(value, (int, float))
    ok = ok and (isinstance(value, int) or math.isfinite(value))  # a huge int compares fine, but has no float
    ok = ok and (value > low if above_low else value >= low) and (value < high if below_high else value <= high)
    if not ok:
        raise ConfigError(f"{name} must be {lower} and {upper}, got {quoted(value)}", name)
    return float(value)


def _check_augmentations(value: Any) -> tuple[str, ...]:
    if value is True:
        return DEFAULT_AUGMENTATIONS
    if value is False or value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise ConfigError(
            f"augment must be a list of {', '.join(AUGMENTATIONS)} (or true/false), got {quoted(value)}", "augment"
        )
    for item in value:
        _check_choice(item, "augment", AUGMENTATIONS)
    return tuple(a for a in AUGMENTATIONS if a in value)  # canonical order, no repeats


@dataclass(frozen=True)
class RunConfig:
    """What both models of a run share, so the comparison is fair: data, order, seed, hardware."""

    dataset: str = "mnist"
    train_subset: int | None = None
    seed: int = 0
    device: str = "auto"
    precision: str = "auto"
    evals_per_epoch: int = 1  # test-set evaluations per epoch; more points on the accuracy curve, more time
    validation_size: int = 0  # training images held out to validate on (early stopping needs them)
    identical_init: bool = True  # models of the same architecture start from the same weights

    def __post_init__(self) -> None:
        _check_choice(self.dataset, "dataset", DATASETS)
        object.__setattr__(self, "evals_per_epoch", _check_int(self.evals_per_epoch, "evals_per_epoch", 1, 10))
        if self.train_subset is not None:
            object.__setattr__(self, "train_subset", _check_int(self.train_subset, "train_subset", 1, 10_000_000))
        object.__setattr__(self, "seed", _check_int(self.seed, "seed", 0, 2**31 - 1))
        object.__setattr__(self, "validation_size", _check_int(self.validation_size, "validation_size", 0, 10_000_000))
        _check_choice(self.device, "device", DEVICES)
        _check_choice(self.precision, "precision", PRECISIONS)
        if not isinstance(self.identical_init, bool):
            raise ConfigError(
                f"identical_init must be true or false, got {quoted(self.identical_init)}", "identical_init"
            )

    def training_images(self, available: int) -> int:
        """How many of a dataset's ``available`` training images the run uses (validation included)."""
        return min(self.train_subset or available, available)

    def check_fits(self, train: TrainConfig, train_size: int, name: str = "") -> None:
        """Refuse what the training set actually used cannot hold: the validation split, a batch, early stopping without validation."""
        who = f"model {name}: " if name else ""
        if self.validation_size >= train_size:
            raise ConfigError(
                f"validation_size must be from 0 to {train_size - 1} (below the {train_size:,} training images), got {self.validation_size}",
                "validation_size",
            )
        left = train_size - self.validation_size
        if train.batch_size > left:
            held = f" after holding out {self.validation_size:,} for validation" if self.validation_size else ""
            raise ConfigError(
                f"{who}batch_size must be from 1 to {left} (the training set size{held}), got {train.batch_size}",
                "batch_size",
            )
        if train.early_stopping != "off" and not self.validation_size:
            raise ConfigError(
                f"{who}early_stopping needs a validation split: set validation images from 1 to {train_size - 1}",
                "early_stopping",
            )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunConfig:
        _no_unknown_keys(data, {f.name for f in dataclasses.fields(cls)}, "run")
        return cls(**data)


@dataclass(frozen=True)
class ModelSpec:
    """One contender of an A/B run: its architecture and how it is trained."""

    model: ModelConfig = field(default_factory=default_model)
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model.to_dict(), "train": self.train.to_dict()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelSpec:
        _no_unknown_keys(data, {"model", "train"}, "model spec")
        return cls(
            ModelConfig.from_dict(data.get("model", default_model().to_dict())),
            TrainConfig.from_dict(data.get("train", {})),
        )


@dataclass(frozen=True)
class ExperimentConfig:
    """A complete, shareable A/B setup."""

    a: ModelSpec = field(default_factory=ModelSpec)
    b: ModelSpec = field(default_factory=ModelSpec)
    run: RunConfig = field(default_factory=RunConfig)

    def to_dict(self) -> dict[str, Any]:
        return {"a": self.a.to_dict(), "b": self.b.to_dict(), "run": self.run.to_dict()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ExperimentConfig:
        _no_unknown_keys(data, {"a", "b", "run"}, "experiment")
        return cls(
            ModelSpec.from_dict(data.get("a", {})),
            ModelSpec.from_dict(data.get("b", {})),
            RunConfig.from_dict(data.get("run", {})),
        )

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_json(cls, text: str) -> ExperimentConfig:
        return cls.from_dict(load_json(text, "json", "setup"))


def _no_unknown_keys(data: Any, allowed: set[str], what: str) -> None:
    if not isinstance(data, dict):
        raise ConfigError(f"{what} settings must be an object, got {quoted(data)}", what)
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ConfigError(
            f"{what} settings: unknown field {quoted(unknown[0])}; allowed: {', '.join(sorted(allowed))}", unknown[0]
        )
