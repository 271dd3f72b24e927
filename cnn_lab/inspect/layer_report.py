"""Looking inside a configuration before it trains: a per-layer report that survives an invalid layer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cnn_lab.core.config import ConfigError, Layer, ModelConfig
from cnn_lab.engine.models import summarize


@dataclass(frozen=True)
class LayerRow:
    number: int  # 1-based, as in every message
    layer: str  # e.g. "conv 3x3, 16 channels"
    output_shape: str  # "16x28x28", or "" where the stack is already broken
    params: int | None
    flops: int | None
    problem: str = ""  # the plain sentence when this layer is the invalid one


@dataclass(frozen=True)
class LayerReport:
    rows: tuple[LayerRow, ...]
    config: ModelConfig | None  # None while some layer is invalid
    error: ConfigError | None

    @property
    def ok(self) -> bool:
        return self.error is None


def layer_report(
    layers: Sequence[Layer], input_shape: tuple[int, int, int] = (1, 28, 28), num_classes: int = 10
) -> LayerReport:
    """Every layer's output shape, parameters and FLOPs; the first invalid layer is marked with its sentence."""
    try:
        config = ModelConfig(tuple(layers), input_shape, num_classes)
        error = None
    except ConfigError as err:
        config, error = None, err
    valid = layers if config else layers[: (error.layer - 1) if error.layer else 0]
    try:
        summary = summarize(ModelConfig(tuple(valid), input_shape, num_classes)).layers
    except ConfigError:  # the prefix itself is refused (e.g. too many parameters): no numbers to show
        summary = ()
    rows = []
    for index, layer in enumerate(layers, start=1):
        row = summary[index - 1] if index - 1 < len(valid) and index - 1 < len(summary) else None
        problem = str(error) if error is not None and error.layer == index else ""
        rows.append(
            LayerRow(
                index,
                layer.describe(),
                "x".join(map(str, row.output_shape)) if row else "",
                row.params if row else None,
                row.flops if row else None,
                problem,
            )
        )
    return LayerReport(tuple(rows), config, error)
