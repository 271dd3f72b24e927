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


def _conv_bn_relu(channels: int) -> list:
    return [Conv(channels), BatchNorm(), Activation("relu")]


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
    """What a preset achieved when benchmarks/presets.py last ran it, e.g. "Measured: 98.6% after 1 epoch in 12 s (4,900 images/s) on ..."."""
    try:
        measurements = json.loads(MEASUREMENTS_PATH.read_text())
        m = measurements["presets"][key]
    except (OSError, ValueError, KeyError):
        return ""
    epochs = f"{m['epochs']} epoch{'s' if m['epochs'] > 1 else ''}"
    return (
        f"Measured with its settings on full MNIST: {m['test_accuracy']:.2%} test accuracy after {epochs}, "
        f"{m['train_time_s']:.0f} s of training ({m['images_per_s']:,} images/s) on {measurements['machine']}."
    )


DEFAULT_CHANNELS_B = (8, 16, 32, 32)
DEFAULT_TRAIN_IMAGES = 20_000  # the first run's training images: both models past 96 % on MNIST in under 20 s


def default_experiment(seed: int = 0) -> ExperimentConfig:
    """The page's first setup: two models that differ in optimizer and width, both of which learn on every dataset
    over many seeds (benchmarks/defaults.py measures it). One epoch of 20,000 MNIST images takes A to 97.5-97.9 % and
    B to 96.3-96.8 % (seeds 0-2) in 19 s from the press to the finished page on 2 EPYC cores held to AVX2 and fp32
    (benchmarks/first_click.py), 8 s with their bf16; all 60,000 images took 48 s for 1-2 points more."""
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
