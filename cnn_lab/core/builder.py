"""Editing a layer list one operation at a time: what the page's layer builder does, without the page.

Intermediate stacks may be invalid (that is what editing looks like); the
analysis report says where, and ModelConfig refuses them at training time.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from cnn_lab.core.config import (
    ACTIVATIONS,
    POOL_MODES,
    Activation,
    BatchNorm,
    ConfigError,
    Conv,
    Dropout,
    Flatten,
    Layer,
    Linear,
    Pool,
    layer_from_dict,
    layer_to_dict,
)
from cnn_lab.core.errors import quoted
from cnn_lab.core.strict_json import load_json

NEW_LAYER: dict[str, Layer] = {
    "conv": Conv(16),
    "pool": Pool(),
    "batchnorm": BatchNorm(),
    "dropout": Dropout(0.25),
    "activation": Activation("relu"),
    "flatten": Flatten(),
    "linear": Linear(64),
}
CHOICES: dict[tuple[str, str], tuple[str, ...]] = {("pool", "mode"): POOL_MODES, ("activation", "kind"): ACTIVATIONS}


def editable_fields(layer: Layer) -> list[str]:
    return [f.name for f in dataclasses.fields(layer)]


def add_layer(layers: tuple[Layer, ...], kind: str, at: int | None = None) -> tuple[Layer, ...]:
    """Insert a new layer of `kind` with sensible defaults (at the end unless `at` is given)."""
    if not isinstance(kind, str) or kind not in NEW_LAYER:
        raise ConfigError(f"layer type must be one of {', '.join(NEW_LAYER)}, got {quoted(kind)}", "type")
    at = len(layers) if at is None else at
    return (*layers[:at], NEW_LAYER[kind], *layers[at:])


def remove_layer(layers: tuple[Layer, ...], index: int) -> tuple[Layer, ...]:
    return layers[:index] + layers[index + 1 :]


def move_layer(layers: tuple[Layer, ...], index: int, offset: int) -> tuple[Layer, ...]:
    """Move a layer up (-1) or down (+1); a move past either end leaves the stack as it is."""
    target = index + offset
    if not 0 <= target < len(layers):
        return layers
    moved = list(layers)
    moved[index], moved[target] = moved[target], moved[index]
    return tuple(moved)


def move_layer_to(layers: tuple[Layer, ...], index: int, target: int) -> tuple[Layer, ...]:
    """Move the layer at ``index`` so that it ends up at position ``target`` (a drag and drop in the page)."""
    for name, value in (("from", index), ("to", target)):
        if not 0 <= value < len(layers):
            raise ConfigError(f"{name} must be a layer position from 1 to {len(layers)}, got {value + 1}", "drop")
    moved = list(layers)
    moved.insert(target, moved.pop(index))
    return tuple(moved)


def apply_drop(layers: tuple[Layer, ...], command: str) -> tuple[Layer, ...]:
    """What a drop in the page's builder asks, in words the page sends: "add KIND AT" (a layer dragged from the
    palette to 0-based position AT) or "move FROM TO" (a layer dragged to another place). Anything else is refused
    by name; the stack that results may still be invalid, and the builder then marks the layer that breaks it."""
    parts = command.split() if isinstance(command, str) else []
    if len(parts) == 3 and parts[0] == "add" and parts[2].isdigit():
        at = int(parts[2])
        if at > len(layers):
            raise ConfigError(f"a new layer goes at a position from 1 to {len(layers) + 1}, got {at + 1}", "drop")
        return add_layer(layers, parts[1], at)
    if len(parts) == 3 and parts[0] == "move" and parts[1].isdigit() and parts[2].isdigit():
        return move_layer_to(layers, int(parts[1]), int(parts[2]))
    raise ConfigError(f'a drop is "add KIND AT" or "move FROM TO", got {quoted(command)}', "drop")


def edit_layer(layers: tuple[Layer, ...], index: int, field_name: str, value: Any) -> tuple[Layer, ...]:
    """Set one field; numbers from the page arrive as floats and whole ones become ints."""
    if isinstance(value, float) and value.is_integer() and field_name != "p":
        value = int(value)
    changed = dataclasses.replace(layers[index], **{field_name: value})
    return layers[:index] + (changed,) + layers[index + 1 :]


def layers_to_json(layers: tuple[Layer, ...]) -> str:
    return json.dumps([layer_to_dict(layer) for layer in layers])


def layers_from_json(text: str) -> tuple[Layer, ...]:
    """Parse a layer list; the message names the layer and field of anything malformed."""
    data = load_json(text or "[]", "layers")
    if not isinstance(data, list):
        raise ConfigError(f"layers must be a list of layer objects, got {type(data).__name__}", "layers")
    return tuple(layer_from_dict(item, index) for index, item in enumerate(data, start=1))
