"""Named, explained architectures with the training settings that suit them.

Presets are data (a ModelSpec each), not classes: the one builder in
models.py makes all of them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

from cnn_lab.core.config import (
    DEFAULT_CHANNELS,
    Activation,
    BatchNorm,
    ConfigError,
    Conv,
    Dropout,
    ExperimentConfig,
    Flatten,
    Linear,
    ModelConfig,
    ModelSpec,
    Pool,
    RunConfig,
    TrainConfig,
)


@dataclass(frozen=True)
class Preset:
    key: str
    title: str
    about: str  # what it is, what it is good for, what to expect
    spec: ModelSpec


MEASUREMENTS_PATH = Path(__file__).parent / "preset_measurements.json"  # written by benchmarks/presets.py


def _conv_bn_relu(channels: int, activation: str = "relu") -> list:
    return [Conv(channels), BatchNorm(), Activation(activation)]


def _airbench_group(channels: int) -> list:
    """airbench's ConvGroup: a convolution, pooling, batch norm and GELU, then a second convolution."""
    return [Conv(channels), Pool(), BatchNorm(), Activation("gelu"), *_conv_bn_relu(channels, "gelu")]


PHOTOS = (3, 32, 32)  # CIFAR-10's images: the colour presets are laid out for them
# The fast CIFAR-10 recipes' training: mirrored and shifted copies, smoothed labels, a warm-up then a decay.
PHOTO_AUGMENT = ("flip", "crop")


PRESETS: dict[str, Preset] = {
    p.key: p
    for p in (
        Preset(
            "default",
            "Seed default (4 convs 16-32-64-64)",
            "Four 3x3 convolutions with ReLU, max-pooling after the 2nd and 4th, one linear layer. The playground's starting point.",
            ModelSpec(ModelConfig.from_conv_channels([16, 32, 64, 64]), TrainConfig("adam", 1e-3, 64, 1)),
        ),
        Preset(
            "fast99",
            "99% in seconds",
            "Four small convolutions with batch norm, trained with Adam at a high peak rate under a one-cycle schedule: "
            "batch norm tolerates the high rate and the schedule anneals it to a precise finish.",
            ModelSpec(
                ModelConfig(
                    tuple(
                        _conv_bn_relu(16)
                        + _conv_bn_relu(16)
                        + [Pool()]
                        + _conv_bn_relu(32)
                        + _conv_bn_relu(32)
                        + [Pool()]
                    )
                ),
                TrainConfig("adam", 0.01, 128, 1, schedule="onecycle"),  # one epoch: 99.06-99.17 % over seeds 0-5
            ),
        ),
        Preset(
            "tiny",
            "Tiny and fast",
            "Two small convolutions and two poolings: a few thousand parameters. Trains fastest; a baseline to beat.",
            ModelSpec(
                ModelConfig((Conv(8), Activation(), Pool(), Conv(16), Activation(), Pool())),
                TrainConfig("adam", 3e-3, 128, 1),
            ),
        ),
        Preset(
            "lenet5",
            "LeNet-5 (LeCun et al., 1998)",
            "The classic: 5x5 convolutions with tanh and average pooling, then fully connected layers of 120 and 84.",
            ModelSpec(
                ModelConfig(
                    (
                        Conv(6, 5, 1, 2),
                        Activation("tanh"),
                        Pool("avg"),
                        Conv(16, 5, 1, 0),
                        Activation("tanh"),
                        Pool("avg"),
                        Flatten(),
                        Linear(120),
                        Activation("tanh"),
                        Linear(84),
                        Activation("tanh"),
                    )
                ),
                TrainConfig("adam", 1e-3, 64, 1),
            ),
        ),
        Preset(
            "pytorch_examples",
            "pytorch/examples Net",
            "The network of PyTorch's own MNIST example: two unpadded convolutions, dropout and a 9216x128 fully connected layer (1.2 M parameters, most of them in that layer).",
            ModelSpec(
                ModelConfig(
                    (
                        Conv(32, 3, 1, 0),
                        Activation(),
                        Conv(64, 3, 1, 0),
                        Activation(),
                        Pool(),
                        Dropout(0.25),
                        Flatten(),
                        Linear(128),
                        Activation(),
                        Dropout(0.5),
                    )
                ),
                TrainConfig("adam", 1e-3, 64, 1),
            ),
        ),
        Preset(
            "keras_convnet",
            "Keras mnist_convnet",
            "Keras' example: two unpadded convolutions each followed by max-pooling, dropout 0.5 before the classifier. Small (35 k parameters) and sturdy.",
            ModelSpec(
                ModelConfig(
                    (
                        Conv(32, 3, 1, 0),
                        Activation(),
                        Pool(),
                        Conv(64, 3, 1, 0),
                        Activation(),
                        Pool(),
                        Flatten(),
                        Dropout(0.5),
                    )
                ),
                TrainConfig("adam", 1e-3, 128, 1),
            ),
        ),
        Preset(
            "vgg",
            "Deeper, VGG-style",
            "Three blocks of two 3x3 convolutions (32, 64, 128 channels) with max-pooling, then a 256-wide layer. More depth, more compute.",
            ModelSpec(
                ModelConfig(
                    (
                        Conv(32),
                        Activation(),
                        Conv(32),
                        Activation(),
                        Pool(),
                        Conv(64),
                        Activation(),
                        Conv(64),
                        Activation(),
                        Pool(),
                        Conv(128),
                        Activation(),
                        Conv(128),
                        Activation(),
                        Pool(),
                        Flatten(),
                        Linear(256),
                        Activation(),
                        Dropout(0.5),
                    )
                ),
                TrainConfig("adam", 1e-3, 64, 1),
            ),
        ),
        Preset(
            "regularised",
            "Regularised (batch norm + dropout)",
            "The default's shape with batch norm after every convolution and dropout after each pooling: trains smoothly at a higher rate and overfits less.",
            ModelSpec(
                ModelConfig(
                    tuple(
                        _conv_bn_relu(16)
                        + _conv_bn_relu(32)
                        + [Pool(), Dropout(0.25)]
                        + _conv_bn_relu(64)
                        + _conv_bn_relu(64)
                        + [Pool(), Dropout(0.25)]
                    )
                ),
                TrainConfig("adam", 3e-3, 64, 1),
            ),
        ),
        Preset(
            "photo_small",
            "Small and fast for photos",
            "For colour photos (CIFAR-10): five convolutions with batch norm (32-32, 64-64, 128) and three poolings, "
            "trained with Adam under a one-cycle schedule on mirrored and shifted copies with smoothed labels.",
            ModelSpec(
                ModelConfig(
                    tuple(
                        _conv_bn_relu(32)
                        + _conv_bn_relu(32)
                        + [Pool()]
                        + _conv_bn_relu(64)
                        + _conv_bn_relu(64)
                        + [Pool()]
                        + _conv_bn_relu(128)
                        + [Pool()]
                    ),
                    PHOTOS,
                ),
                TrainConfig(
                    "adam",
                    5e-3,
                    128,
                    6,
                    augment=PHOTO_AUGMENT,
                    schedule="onecycle",
                    warmup_epochs=1.0,
                    loss="label_smoothing",
                    label_smoothing=0.2,
                ),  # fmt: skip
            ),
        ),
        Preset(
            "airbench",
            "Airbench-style, CIFAR-10 fast",
            "The network of Keller Jordan's airbench (94 % on CIFAR-10 in 2.6 s on an A100) at half its width: "
            "a 24-channel stem, then three groups of two convolutions (32, 128, 128) with pooling, batch norm and "
            "GELU, and a global max-pool; like airbench, no skip connections. Trained as it is: SGD with Nesterov "
            "momentum under a one-cycle schedule, mirrored and shifted copies, smoothed labels.",
            ModelSpec(
                ModelConfig(
                    tuple(
                        _conv_bn_relu(24, "gelu")
                        + _airbench_group(32)
                        + _airbench_group(128)
                        + _airbench_group(128)
                        + [Pool("max", 3)]
                    ),
                    PHOTOS,
                ),
                TrainConfig(
                    "sgd",
                    0.1,
                    128,
                    4,
                    augment=PHOTO_AUGMENT,
                    schedule="onecycle",
                    warmup_epochs=0.8,
                    weight_decay=5e-4,
                    nesterov=True,
                    loss="label_smoothing",
                    label_smoothing=0.2,
                ),  # fmt: skip
            ),
        ),
        Preset(
            "mlp",
            "Plain MLP (no convolutions)",
            "Two fully connected hidden layers on the raw pixels. A contrast: it sees no neighbourhoods, so it needs more parameters for less accuracy.",
            ModelSpec(
                ModelConfig((Flatten(), Linear(256), Activation(), Linear(128), Activation())),
                TrainConfig("adam", 1e-3, 64, 1),
            ),
        ),
    )
}


def measured_note(key: str) -> str:
    """What a preset achieved when benchmarks/presets.py last ran it with its own settings, on full MNIST and on
    full CIFAR-10 where it was measured there, e.g. "Measured with its settings on full MNIST: 98.6% ..."."""
    try:
        measurements = json.loads(MEASUREMENTS_PATH.read_text())
    except (OSError, ValueError):
        return ""
    notes = []
    mnist = measurements.get("presets", {}).get(key)
    if mnist:
        notes.append(f"Measured with its settings on full MNIST: {_figures(mnist)} on {measurements['machine']}.")
    cifar = measurements.get("cifar10", {})
    by_precision = cifar.get("presets", {}).get(key, {})
    if by_precision:
        fastest = "bf16" if "bf16" in by_precision else "fp32"
        fp32 = (
            f"; in fp32 {by_precision['fp32']['train_time_s']:.0f} s"
            if fastest == "bf16" and "fp32" in by_precision
            else ""
        )
        notes.append(
            f"On full CIFAR-10 with its settings: {_figures(by_precision[fastest])} in {fastest}{fp32} "
            f"({cifar['machine']})."
        )
    return " ".join(notes)


def _figures(m: dict) -> str:
    epochs = f"{m['epochs']} epoch{'s' if m['epochs'] > 1 else ''}"
    return (
        f"{m['test_accuracy']:.2%} test accuracy after {epochs}, {m['train_time_s']:.0f} s of training "
        f"({m['images_per_s']:,} images/s)"
    )


DEFAULT_CHANNELS_B = DEFAULT_CHANNELS  # the same model: the default pair compares optimizers alone
DEFAULT_TRAIN_IMAGES = 20_000  # the first run's training images: both models past 96 % on MNIST in under 20 s


def default_experiment(seed: int = 0) -> ExperimentConfig:
    """The page's first setup: one model (8-16-32-32 channels) trained by Adam as A and by SGD as B, a comparison
    of one thing, which learns on every dataset over many seeds (benchmarks/defaults.py measures it). It is sized
    for the slowest target, a real 2-core AVX2-only CPU in fp32: one epoch of 20,000 MNIST images takes A to
    96.7-96.9 % and B to 96.3-96.8 % (seeds 0-2) in 17.2 s from the press to the finished page there, its first
    curve points after 2.2 s (benchmarks/first_click.py, median of 3; the former 16-32-64-64 / 8-16-32-32 pair took
    33.8 s for about 0.7 points more)."""
    a = ModelSpec(ModelConfig.from_conv_channels(DEFAULT_CHANNELS), TrainConfig("adam", 1e-3, 64, 1))
    b = ModelSpec(ModelConfig.from_conv_channels(DEFAULT_CHANNELS_B), TrainConfig("sgd", 0.01, 64, 1))
    return ExperimentConfig(a, b, RunConfig(train_subset=DEFAULT_TRAIN_IMAGES, seed=seed, evals_per_epoch=3))


def fit_on(shape: tuple[int, int, int], classes: int) -> list[tuple[str, str]]:
    """Each preset on data of input ``shape`` (C, H, W) with ``classes`` classes: the parameters it then has, or
    why it cannot read such images (pooled below 1x1, too many parameters)."""
    found = []
    for preset in PRESETS.values():
        try:
            model = replace(preset.spec.model, input_shape=shape, num_classes=classes)
            found.append((preset.title, f"fits: {model.param_count:,} parameters"))
        except ConfigError as err:
            found.append((preset.title, f"cannot: {err}"))
    return found
