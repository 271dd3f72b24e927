"""Tables the Inspect tab and the layer builder show, from plain data: confusion, per-class accuracy, costs, layers."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cnn_lab.core.builder import layers_from_json
from cnn_lab.core.config import MODEL_NAMES as NAMES
from cnn_lab.core.config import ConfigError
from cnn_lab.inspect.confusion import PairScores
from cnn_lab.inspect.costs import PROFILE_BATCH, ModelCost
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
