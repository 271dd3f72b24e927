"""What each layer of a trained model costs: parameters, FLOPs and activation memory (counted), forward and backward
time (measured with torch.profiler), and the whole model's latency at batch 1 and at a training-sized batch.

Measured on a copy of the model, so batch norm's running statistics and the weights' gradients stay untouched.
"""

from __future__ import annotations

import copy
import statistics
import time
from contextlib import nullcontext
from dataclasses import dataclass

import torch
from torch import nn
from torch.profiler import ProfilerActivity, profile, record_function

from cnn_lab.engine.contenders import Contender
from cnn_lab.engine.models import summarize
from cnn_lab.engine.runtime import device_label

PROFILE_BATCH = 256
PROFILE_REPEATS = 5
LATENCY_REPEATS = {1: 50, PROFILE_BATCH: 10}


@dataclass(frozen=True)
class LayerCost:
    name: str
    kind: str
    params: int
    flops: int  # forward, one image (a multiply-add counts 2)
    activation_bytes: int  # its fp32 output for one image
    forward_ms: float  # one batch of PROFILE_BATCH images
    backward_ms: float


@dataclass(frozen=True)
class ModelCost:
    layers: tuple[LayerCost, ...]
    latency_ms: dict[int, float]  # batch size -> median time of one forward pass (inference)
    test_accuracy: float | None
    device: str  # where it was measured, in words

    @property
    def params(self) -> int:
        return sum(layer.params for layer in self.layers)

    @property
    def flops(self) -> int:
        return sum(layer.flops for layer in self.layers)

    @property
    def accuracy_per_mflop(self) -> float | None:
        """Test accuracy (in percent) per million FLOPs of one image: what each unit of compute buys."""
        return None if self.test_accuracy is None else 100 * self.test_accuracy / (self.flops / 1e6)

    @property
    def accuracy_per_kparam(self) -> float | None:
        """Test accuracy (in percent) per 1,000 parameters: what each unit of model size buys."""
        return None if self.test_accuracy is None else 100 * self.test_accuracy / (self.params / 1e3)


def measure_costs(contender: Contender, input_shape: tuple[int, int, int]) -> ModelCost:
    """Every layer's counted and measured cost, and the model's latency at batch 1 and PROFILE_BATCH."""
    module = copy.deepcopy(contender.module)
    device = next(module.parameters()).device
    summary = summarize(contender.spec.model, module)
    forward, backward = profile_layers(module, torch.randn(PROFILE_BATCH, *input_shape, device=device))
    layers = tuple(
        LayerCost(
            row.name, row.kind, row.params, row.flops, row.activation_bytes, forward[row.name], backward[row.name]
        )
        for row in summary.layers
    )
    latency = {batch: inference_ms(module, input_shape, batch, repeats) for batch, repeats in LATENCY_REPEATS.items()}
    return ModelCost(layers, latency, contender.test_accuracy, device_label(device))


def profile_layers(module: nn.Module, x: torch.Tensor) -> tuple[dict[str, float], dict[str, float]]:
    """Each layer's average forward and backward time in ms: the layers run one by one, each under its own
    profiler label, and backpropagate one by one in reverse (the time on the device where there is one)."""
    layers = list(module.named_children())
    x = x.contiguous(memory_format=torch.channels_last)
    on_gpu = x.device.type == "cuda"
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if on_gpu else [])
    module.train()
    _forward_backward(layers, x)  # warm-up: first calls pick kernels and allocate
    with profile(activities=activities) as profiler:
        for _ in range(PROFILE_REPEATS):
            _forward_backward(layers, x, labelled=True)
    times: dict[str, float] = {}
    for event in profiler.key_averages():
        if event.key.startswith(("forward ", "backward ")):
            micros = event.device_time if on_gpu else event.cpu_time
            times[event.key] = micros / 1000
    return (
        {name: times.get(f"forward {name}", 0.0) for name, _ in layers},
        {name: times.get(f"backward {name}", 0.0) for name, _ in layers},
    )


def _forward_backward(layers: list[tuple[str, nn.Module]], x: torch.Tensor, labelled: bool = False) -> None:
    inputs, outputs = [], []
    h = x
    for index, (name, layer) in enumerate(layers):
        h_in = h.detach().requires_grad_(index > 0)  # the image itself needs no gradient, as in training
        with record_function(f"forward {name}") if labelled else nullcontext():
            h = layer(h_in)
        inputs.append(h_in)
        outputs.append(h)
    grad = torch.ones_like(h) / h.numel()
    for (name, _), h_in, out in reversed(list(zip(layers, inputs, outputs, strict=True))):
        if out.requires_grad:
            with record_function(f"backward {name}") if labelled else nullcontext():
                out.backward(grad)
        grad = h_in.grad


@torch.inference_mode()
def inference_ms(module: nn.Module, input_shape: tuple[int, int, int], batch: int, repeats: int) -> float:
    """Median time of one forward pass of ``batch`` images in eval mode (after a warm-up pass)."""
    device = next(module.parameters()).device
    x = torch.randn(batch, *input_shape, device=device).contiguous(memory_format=torch.channels_last)
    module.eval()
    times = []
    for k in range(repeats + 1):
        started = time.perf_counter()
        module(x)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        if k:
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)
