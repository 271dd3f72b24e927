"""Guided experiments: A and B that differ in exactly one knob, and what a finished run of them shows, in words
made from its measured numbers.

A is the page's default model A; B is A with one change. Both train on the same images in the same order from
the same seed (and the same initial weights where the architecture is the same). Whether a difference is more
than chance is judged against the seed-to-seed spread benchmarks/defaults.py measured for model A on full MNIST.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from cnn_lab.core.config import BatchNorm, Conv, Dropout, ExperimentConfig, ModelConfig, ModelSpec, TrainConfig
from cnn_lab.core.events import ModelResult
from cnn_lab.core.presets import default_experiment

SEED_SPREAD_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "defaults_results.json"
GUIDED_IMAGES = 10_000  # a minute or less for both models on a 2-core CPU
GUIDED_EPOCHS = 2


def _train(**changes) -> Callable[[ModelSpec], ModelSpec]:
    return lambda spec: replace(spec, train=replace(spec.train, **changes))


def _layers(change: Callable[[tuple], tuple]) -> Callable[[ModelSpec], ModelSpec]:
    return lambda spec: replace(spec, model=ModelConfig(change(spec.model.layers)))


def _with_batch_norm(layers: tuple) -> tuple:
    out = []
    for layer in layers:
        out.append(layer)
        if isinstance(layer, Conv):
            out.append(BatchNorm())
    return tuple(out)


def _wider(layers: tuple) -> tuple:
    return tuple(
        replace(layer, out_channels=layer.out_channels * 2) if isinstance(layer, Conv) else layer for layer in layers
    )


def _shallower(layers: tuple) -> tuple:
    """The first two conv blocks of the default (conv, relu, conv, relu, pool): half the depth."""
    return layers[: len(layers) // 2]


@dataclass(frozen=True)
class Guided:
    knob: str
    field: str  # the one setting of B that differs from A's
    question: str
    change: Callable[[ModelSpec], ModelSpec]
    known: str  # what is generally known about this knob, said after the run's own numbers


GUIDED = {
    g.knob: g
    for g in (
        Guided("learning rate", "learning_rate", "What does a 10x larger learning rate do?", _train(learning_rate=0.01),
               "Generally: a larger rate learns faster until it is too large, then it stalls or diverges; Adam is usually best near 0.001."),
        Guided("batch size", "batch_size", "What does a 4x larger batch do (fewer, smoother steps)?", _train(batch_size=256),
               "Generally: a larger batch takes fewer steps per epoch, so at the same rate it learns less per epoch but runs more images per second."),
        Guided("optimizer", "optimizer", "Adam or plain SGD, at the same rate?", _train(optimizer="sgd"),
               "Generally: Adam scales each weight's step itself; SGD needs a rate 10-100 times larger than Adam's to move as far."),
        Guided("depth", "layers", "Half the layers: what does depth buy?", _layers(_shallower),
               "Generally: more layers see larger parts of the image (receptive field) and combine simpler features, at more compute."),
        Guided("width", "layers", "Twice the channels in every conv layer: what does width buy?", _layers(_wider),
               "Generally: more channels find more features; the cost grows with the square of the width, the gain shrinks."),
        Guided("batch norm", "layers", "Batch norm after every convolution?", _layers(_with_batch_norm),
               "Generally: batch norm steadies training and allows higher rates; it costs a little speed."),
        Guided("dropout", "layers", "Dropout (p = 0.5) before the classifier?", _layers(lambda layers: (*layers, Dropout(0.5))),
               "Generally: dropout fights overfitting; in a short run with little overfitting it mostly slows learning."),
        Guided("augmentation", "augment", "Rotated, shifted and zoomed training images?", _train(augment=("rotate", "shift", "scale")),
               "Generally: augmentation helps on new, messier images (your drawings) more than on the tidy test set, and needs more epochs."),
        Guided("schedule", "schedule", "A cosine schedule instead of a constant rate?", _train(schedule="cosine"),
               "Generally: lowering the rate towards the end lets the model settle into a better minimum."),
    )
}  # fmt: skip


def guided_setup(knob: str, seed: int = 0) -> ExperimentConfig:
    """The default model A against A with ``knob`` changed, on the same images, order, seed and (same architecture)
    initial weights."""
    base = default_experiment(seed)
    a = replace(base.a, train=replace(base.a.train, epochs=GUIDED_EPOCHS))
    b = GUIDED[knob].change(a)
    return ExperimentConfig(a, b, replace(base.run, train_subset=GUIDED_IMAGES, identical_init=True))


def differing_fields(a: ModelSpec, b: ModelSpec) -> list[str]:
    """The settings in which two models differ: their TrainConfig fields, and "layers" for the architecture."""
    train = [f for f in TrainConfig.__dataclass_fields__ if getattr(a.train, f) != getattr(b.train, f)]
    return train + (["layers"] if a.model != b.model else [])


def seed_spread_pp() -> float | None:
    """The std over seeds of model A's test accuracy on full MNIST, in percentage points, as benchmarks/defaults.py
    measured it (None where that file is absent)."""
    try:
        runs = json.loads(SEED_SPREAD_PATH.read_text())["datasets"]["mnist"]["runs"]
        return 100 * statistics.stdev(r["test_accuracy"]["A"] for r in runs)
    except (OSError, ValueError, KeyError, statistics.StatisticsError):
        return None


def what_it_shows(knob: str, results: dict[str, ModelResult], spread_pp: float | None) -> str:
    """A paragraph on a finished guided run, from its numbers: the accuracy difference and whether it is more than
    seed noise, and the cost in time."""
    a, b = results["A"], results["B"]
    if a.test_accuracy is None or b.test_accuracy is None:
        return "The run ended before both models were scored on the test set: train it to the end to compare."
    guided = GUIDED[knob]
    diff = 100 * (b.test_accuracy - a.test_accuracy)
    better = "better" if diff > 0 else "worse"
    lines = [
        f"{guided.question} B ({knob} changed) reached {b.test_accuracy:.2%} test accuracy, A {a.test_accuracy:.2%}: "
        f"B is {abs(diff):.2f} percentage points {better}."
    ]
    if spread_pp is not None:
        noise = 2 * math.sqrt(2) * spread_pp  # twice the std of a difference between two runs
        if abs(diff) < noise:
            lines.append(
                f"That is within seed noise: model A's accuracy varies by {spread_pp:.2f} pp (std) from seed to seed "
                f"on full MNIST (benchmarks/defaults.py), so differences under about {noise:.2f} pp can be chance. "
                "*Repeat with seeds* (Runs) settles it."
            )
        else:
            lines.append(
                f"That is more than seed noise (differences under about {noise:.2f} pp can be chance; model A varies "
                f"by {spread_pp:.2f} pp from seed to seed), on this data and for this many epochs."
            )
    if a.images_per_s and b.images_per_s:
        ratio = b.images_per_s / a.images_per_s
        lines.append(
            f"B trained at {b.images_per_s:,.0f} images/s, A at {a.images_per_s:,.0f} ({ratio:.2f}x): "
            + (
                "the change costs time."
                if ratio < 0.9
                else "the change saves time."
                if ratio > 1.1
                else "about the same speed."
            )
        )
    if b.not_learning or a.not_learning:
        stuck = "B" if b.not_learning else "A"
        lines.append(f"Model {stuck} did not learn: {(b if stuck == 'B' else a).not_learning}")
    lines.append(guided.known)
    return " ".join(lines)
