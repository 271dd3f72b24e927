"""Tables the Inspect tab and the layer builder show, from plain data: confusion, per-class accuracy, costs, layers."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cnn_lab.core.builder import layers_from_json
from cnn_lab.core.config import MODEL_NAMES as NAMES
from cnn_lab.core.config import ConfigError
from cnn_lab.inspect.confusion import PairScores
from cnn_lab.inspect.costs import PROFILE_BATCH, ModelCost
from cnn_lab.inspect.cross_reading import CrossReading
from cnn_lab.inspect.layer_report import layer_report


def report_frame(text: str, input_shape: tuple[int, int, int] = (1, 28, 28), classes: int = 10) -> pd.DataFrame:
    """The validation table: every layer's output shape, parameters and FLOPs on images of ``input_shape`` with
    ``classes`` classes, the broken one marked in place."""
    try:
        rows = layer_report(layers_from_json(text), input_shape, classes).rows
    except ConfigError as err:
        return pd.DataFrame(
            {"#": [""], "layer": ["(layer list)"], "output": [""], "params": [""], "FLOPs": [""], "problem": [str(err)]}
        )
    return pd.DataFrame(
        {
            "#": [r.number for r in rows],
            "layer": [r.layer for r in rows],
            "output": [r.output_shape or "-" for r in rows],
            "params": [f"{r.params:,}" if r.params is not None else "-" for r in rows],
            "FLOPs": [f"{r.flops:,}" if r.flops is not None else "-" for r in rows],
            "problem": [f"⚠ {r.problem}" if r.problem else "" for r in rows],
        }
    )


def matrix_frame(matrix: np.ndarray, class_names: tuple[str, ...]) -> pd.DataFrame:
    """A confusion matrix as a table: one row per true class, one column per guess."""
    frame = pd.DataFrame(matrix, columns=list(class_names))
    frame.insert(0, "true", list(class_names))
    return frame


def per_class_frame(scores: PairScores) -> pd.DataFrame:
    a, b = (scores.per_class_accuracy(name) for name in NAMES)
    return pd.DataFrame(
        {
            "class": list(scores.class_names),
            "A": [f"{x:.1%}" for x in a],
            "B": [f"{x:.1%}" for x in b],
            "B - A (pp)": [f"{100 * (y - x):+.1f}" for x, y in zip(a, b, strict=True)],
        }
    )


def cost_summary_frame(costs: dict[str, ModelCost]) -> pd.DataFrame:
    """Both models' size, compute, speed and what their accuracy costs, one row per figure."""

    def per(value: float | None) -> str:
        return "not evaluated" if value is None else f"{value:.2f}"

    rows = {
        "parameters": {name: f"{c.params:,}" for name, c in costs.items()},
        "MFLOPs per image": {name: f"{c.flops / 1e6:.2f}" for name, c in costs.items()},
        "latency, 1 image (ms)": {name: f"{c.latency_ms[1]:.2f}" for name, c in costs.items()},
        f"latency, {PROFILE_BATCH} images (ms)": {
            name: f"{c.latency_ms[PROFILE_BATCH]:.1f}" for name, c in costs.items()
        },
        "images/s at that batch": {
            name: f"{PROFILE_BATCH / c.latency_ms[PROFILE_BATCH] * 1000:,.0f}" for name, c in costs.items()
        },
        "test accuracy": {
            name: "not evaluated" if c.test_accuracy is None else f"{c.test_accuracy:.2%}" for name, c in costs.items()
        },
        "accuracy (%) per MFLOP": {name: per(c.accuracy_per_mflop) for name, c in costs.items()},
        "accuracy (%) per 1,000 parameters": {name: per(c.accuracy_per_kparam) for name, c in costs.items()},
    }
    return pd.DataFrame([{"": label, **{f"Model {n}": v for n, v in row.items()}} for label, row in rows.items()])


def cost_layer_frame(costs: dict[str, ModelCost]) -> pd.DataFrame:
    """Every layer of both models: counted size and compute, measured time for a batch."""
    return pd.DataFrame(
        [
            {
                "model": name,
                "layer": layer.name,
                "params": layer.params,
                "MFLOPs": round(layer.flops / 1e6, 3),
                "activation KB": round(layer.activation_bytes / 1024, 1),
                "forward ms": round(layer.forward_ms, 2),
                "backward ms": round(layer.backward_ms, 2),
            }
            for name, cost in costs.items()
            for layer in cost.layers
        ]
    )


def layer_times(costs: dict[str, ModelCost]) -> dict[str, dict[str, float]]:
    """Each model's forward + backward time per layer (ms), by layer name."""
    return {name: {layer.name: layer.forward_ms + layer.backward_ms for layer in c.layers} for name, c in costs.items()}


def cross_reading_frame(reading: CrossReading) -> pd.DataFrame:
    """Per shared class: the other set's images, and each model's accuracy on them beside its own test set's."""
    frame = {"class": list(reading.class_names), "images": [f"{n:,}" for n in reading.images]}
    for name in reading.other:
        frame[f"{name} on {reading.read}"] = [_percent(v) for v in reading.other[name]]
        frame[f"{name} on its own test set"] = [_percent(v) for v in reading.own[name]]
    return pd.DataFrame(frame)


def cross_reading_text(reading: CrossReading) -> str:
    """The lesson in words, from the numbers: how much each model lost, and where it lost most."""
    lines = []
    for name in reading.other:
        other, own = reading.accuracy(name), reading.accuracy(name, "own")
        drop = reading.own[name] - reading.other[name]
        worst = int(np.nanargmax(drop))
        lines.append(
            f"Model {name} reads {other:.1%} of {reading.read}'s {reading.images.sum():,} images of these classes, "
            f"against {own:.1%} of its own test images ({(other - own) * 100:+.1f} points); its hardest class there "
            f"is {reading.class_names[worst]} ({reading.other[name][worst]:.0%} against {reading.own[name][worst]:.0%})."
        )
    resized = (
        f" {reading.read}'s images ({'x'.join(map(str, reading.resized_from))}) were brought to the models' input."
        if reading.resized_from
        else ""
    )
    return (
        f"Trained on {reading.trained_on}, read on {reading.read}: " + " ".join(lines) + resized + " A model's test "
        "accuracy holds for images like its training images; other writers, scanners or pens shift the data "
        "(domain shift), and the classes that shift most lose most."
    )


def _percent(value: float) -> str:
    return "-" if value != value else f"{value:.1%}"
