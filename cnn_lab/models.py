"""One builder from a ModelConfig to an nn.Module, and a per-layer summary."""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from .config import Activation, BatchNorm, Conv, Dropout, Flatten, Layer, Linear, ModelConfig, Pool, Shape

ACTIVATION_MODULES = {
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
}


def _module_for(layer: Layer, in_shape: Shape) -> nn.Module:
    if isinstance(layer, Conv):
        return nn.Conv2d(in_shape[0], layer.out_channels, layer.kernel, layer.stride, layer.padding)
    if isinstance(layer, Pool):
        pool = nn.MaxPool2d if layer.mode == "max" else nn.AvgPool2d
        return pool(layer.kernel, layer.step)
    if isinstance(layer, BatchNorm):
        return nn.BatchNorm2d(in_shape[0]) if len(in_shape) == 3 else nn.BatchNorm1d(in_shape[0])
    if isinstance(layer, Dropout):
        return nn.Dropout(layer.p)
    if isinstance(layer, Activation):
        return ACTIVATION_MODULES[layer.kind]()
    if isinstance(layer, Flatten):
        return nn.Flatten()
    if isinstance(layer, Linear):
        return nn.Linear(in_shape[0], layer.out_features)
    raise TypeError(f"unknown layer {layer!r}")


def _short_name(layer: Layer) -> str:
    if isinstance(layer, Activation):
        return layer.kind
    if isinstance(layer, Pool):
        return f"{layer.mode}pool"
    return {Conv: "conv", BatchNorm: "bn", Dropout: "dropout", Flatten: "flatten", Linear: "fc"}[type(layer)]


def build_model(config: ModelConfig) -> nn.Sequential:
    """An nn.Sequential with readable names (conv1, relu1, maxpool1, ..., flatten, classifier)."""
    modules: OrderedDict[str, nn.Module] = OrderedDict()
    counts: dict[str, int] = {}
    shape = config.input_shape
    for layer, out_shape, _ in config.layer_table():
        name = _short_name(layer)
        counts[name] = counts.get(name, 0) + 1
        modules[f"{name}{counts[name]}"] = _module_for(layer, shape)
        shape = out_shape
    if len(shape) != 1:
        modules["flatten"] = nn.Flatten()
    modules["classifier"] = nn.Linear(math.prod(shape), config.num_classes)
    return nn.Sequential(modules)


@dataclass(frozen=True)
class LayerSummary:
    name: str
    kind: str
    output_shape: Shape
    params: int
    flops: int  # forward FLOPs for one image (a multiply-add counts 2)
    activation_bytes: int  # fp32 output of this layer for one image


@dataclass(frozen=True)
class ModelSummary:
    layers: tuple[LayerSummary, ...]

    @property
    def params(self) -> int:
        return sum(row.params for row in self.layers)

    @property
    def flops(self) -> int:
        return sum(row.flops for row in self.layers)

    @property
    def activation_bytes(self) -> int:
        return sum(row.activation_bytes for row in self.layers)


def summarize(config: ModelConfig, model: nn.Module | None = None) -> ModelSummary:
    """Per-layer output shape, parameters, forward FLOPs (PyTorch's FlopCounterMode) and activation memory."""
    model = model if model is not None else build_model(config)
    shapes: dict[str, Shape] = {}
    hooks = [
        module.register_forward_hook(lambda _m, _i, out, name=name: shapes.__setitem__(name, tuple(out.shape[1:])))
        for name, module in model.named_children()
    ]
    was_training = model.training
    model.eval()
    try:
        device = next(model.parameters()).device
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            model(torch.zeros(1, *config.input_shape, device=device))
    finally:
        model.train(was_training)
        for hook in hooks:
            hook.remove()
    flops = counter.get_flop_counts()
    prefix = type(model).__name__
    rows = []
    for name, module in model.named_children():
        shape = shapes[name]
        rows.append(
            LayerSummary(
                name=name,
                kind=type(module).__name__,
                output_shape=shape,
                params=sum(p.numel() for p in module.parameters()),
                flops=int(sum(flops.get(f"{prefix}.{name}", {}).values())),
                activation_bytes=math.prod(shape) * 4,
            )
        )
    return ModelSummary(tuple(rows))
