"""The machine's limit: the highest FLOP rate any kernel reaches here, per dtype, with all of torch's threads.

A single small matrix product is no anchor: on this AMD EPYC a 1024x1024 fp32 product (MKL) ran at 204 GFLOP/s while
the engine's oneDNN convolutions trained at 309, so "efficiency" read 1.51. The peak here is the best of many kernels
that each keep the cores busy: large matrix products (MKL/oneDNN), large 3x3 and 1x1 convolutions forward and
backward in channels_last (oneDNN), and the engine's own convolutions at its batch size (forward, input gradient,
weight gradient). Since the engine's own kernels are among the candidates, no kernel of the engine can exceed the
peak, and a whole training step (which also runs ReLU, pooling, the loss and the optimizer) stays below it.

    python -m benchmarks.peak            # prints the table for fp32 and, where the CPU has it, bf16

FLOPs are counted by PyTorch's FlopCounterMode, the counter the engine's own figure uses.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch.utils.flop_counter import FlopCounterMode

from cnn_lab.core.config import ModelSpec
from cnn_lab.engine.models import build_model


@dataclass(frozen=True)
class Kernel:
    name: str
    run: Callable[[], object]


def counted_flops(run: Callable[[], object]) -> int:
    with FlopCounterMode(display=False) as counter:
        run()
    return counter.get_total_flops()


def rate_gflops(run: Callable[[], object], seconds: float = 0.4, rounds: int = 5) -> float:
    """Median GFLOP/s over ``rounds`` timed windows of at least ``seconds`` each, after a warm-up."""
    flops = counted_flops(run)
    for _ in range(3):
        run()
    rates = []
    for _ in range(rounds):
        calls, started = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - started) < seconds / rounds or calls < 2:
            run()
            calls += 1
        rates.append(flops * calls / elapsed / 1e9)
    return statistics.median(rates)


def _conv_kernels(label: str, x: torch.Tensor, conv: torch.nn.Conv2d) -> list[Kernel]:
    """Forward, input gradient and weight gradient of ``conv`` on ``x``, each as its own kernel."""
    w, padding = conv.weight, conv.padding
    out = torch.nn.functional.conv2d(x, w, None, 1, padding)
    grad = torch.randn_like(out).contiguous(memory_format=torch.channels_last)

    def backward(mask: list[bool]) -> Callable[[], object]:
        return lambda: torch.ops.aten.convolution_backward(
            grad, x, w, None, [1, 1], list(padding), [1, 1], False, [0, 0], 1, mask
        )

    return [
        Kernel(f"{label} forward", lambda: torch.nn.functional.conv2d(x, w, None, 1, padding)),
        Kernel(f"{label} input grad", backward([True, False, False])),
        Kernel(f"{label} weight grad", backward([False, True, False])),
    ]


def large_kernels(dtype: torch.dtype) -> list[Kernel]:
    """Kernels big enough to keep every core's vector units busy: products and convolutions of hundreds of channels."""
    kernels = []
    for n in (2048, 4096):
        a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
        kernels.append(Kernel(f"matmul {n}x{n}", lambda a=a, b=b: a @ b))
    for channels, side, size in ((128, 28, 3), (256, 14, 3), (512, 14, 1)):
        x = torch.randn(64, channels, side, side, dtype=dtype).contiguous(memory_format=torch.channels_last)
        conv = torch.nn.Conv2d(channels, channels, size, padding=size // 2, bias=False)
        conv = conv.to(dtype=dtype, memory_format=torch.channels_last)
        kernels += _conv_kernels(f"conv{size}x{size} {channels}ch {side}px", x, conv)
    return kernels


def engine_kernels(dtype: torch.dtype, spec: ModelSpec | None = None, batch: int = 64) -> list[Kernel]:
    """The convolutions of a model the engine trains (the default one unless ``spec`` says) at a batch size, one
    kernel per layer and direction."""
    spec = spec or ModelSpec()
    model = build_model(spec.model).to(dtype=dtype, memory_format=torch.channels_last)
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    inputs: list[torch.Tensor] = []
    hooks = [c.register_forward_hook(lambda m, args, out: inputs.append(args[0].detach())) for c in convs]
    with torch.no_grad():
        model(torch.randn(batch, *spec.model.input_shape, dtype=dtype).contiguous(memory_format=torch.channels_last))
    for hook in hooks:
        hook.remove()
    kernels = []
    for i, (conv, x) in enumerate(zip(convs, inputs, strict=True)):
        x = x.contiguous(memory_format=torch.channels_last)
        kernels += _conv_kernels(f"engine conv{i + 1} ({conv.in_channels}->{conv.out_channels})", x, conv)
    return kernels


def measure_peak(dtype: torch.dtype, seconds: float = 0.4, extra_specs: list[ModelSpec] = ()) -> dict:
    """The dtype's peak GFLOP/s on this machine: the fastest kernel, and every kernel's rate beside it. The
    convolutions of ``extra_specs`` (at their own batch size) join the candidates, so no kernel of a run of theirs
    can beat the peak either."""
    kernels = large_kernels(dtype) + engine_kernels(dtype)
    for spec in extra_specs:
        kernels += [
            Kernel(f"{k.name} [{spec.model.input_shape}]", k.run)
            for k in engine_kernels(dtype, spec, spec.train.batch_size)
        ]
    with torch.no_grad():
        rates = {k.name: rate_gflops(k.run, seconds) for k in kernels}
    best = max(rates, key=rates.get)
    return {"peak_gflops": rates[best], "peak_kernel": best, "kernels_gflops": rates}


def over_one(figures: dict[str, float]) -> list[str]:
    """The efficiency figures that read above 1.0: each one means the peak was measured wrong."""
    return [f"{name}={value:.3f}" for name, value in figures.items() if value > 1.0]


def main() -> None:
    from benchmarks.machine import machine

    print(machine())
    dtypes = [torch.float32] + ([torch.bfloat16] if machine()["precision_auto"] == "bf16" else [])
    for dtype in dtypes:
        peak = measure_peak(dtype)
        print(f"\n{dtype}: peak {peak['peak_gflops']:.0f} GFLOP/s ({peak['peak_kernel']})")
        for name, gflops in sorted(peak["kernels_gflops"].items(), key=lambda kv: -kv[1]):
            print(f"  {name:40s} {gflops:8.1f}")


if __name__ == "__main__":
    main()
