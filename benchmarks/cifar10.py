"""CIFAR-10 on 2 cores: how long the fastest preset takes to 80 % test accuracy, and what the hardware allows.

``time_to_80`` trains the *airbench* preset (half airbench's width, its recipe:
SGD with Nesterov momentum, one-cycle, mirrored and shifted copies, smoothed
labels) on all 50,000 training images, scoring the 10,000 test images four
times an epoch, and stops at the first score of 80 % or more; the training
seconds to it (evaluations excluded), median of 3 seeds. The roofline beside
it: the FLOPs of those training steps (PyTorch's FlopCounterMode over one
forward and backward, times the images trained) over the machine's measured
peak of the precision it trained in (benchmarks/peak.py, with this network's
own convolutions among the candidates): the time no engine could beat with
this network and recipe, and the share of the peak the run reached.

    CNN_LAB_DATA=../shared/datasets python -m benchmarks.run --only cifar10
    CNN_LAB_DATA=../shared/datasets python -m benchmarks.cifar10 [--seeds 3]   (prints, writes nothing)
"""

from __future__ import annotations

import argparse
import math
import statistics

import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from benchmarks.peak import measure_peak, over_one
from benchmarks.timed_runs import train_ours
from cnn_lab.core.config import ModelSpec, RunConfig
from cnn_lab.core.presets import PRESETS
from cnn_lab.data.datasets import load_dataset
from cnn_lab.engine.contenders import Contender
from cnn_lab.engine.models import build_model
from cnn_lab.engine.runtime import precision_name, resolve_precision
from cnn_lab.engine.training import prepare_batch

TARGET = 0.80
PRESET = "airbench"


def training_gflop_per_image(spec: ModelSpec, data) -> float:
    """One image's forward and backward through the network, in GFLOP (the optimizer's few FLOPs not counted)."""
    model = build_model(spec.model).to(memory_format=torch.channels_last)
    x = prepare_batch(data.train_images[:32], data.info.mean, data.info.std)
    with FlopCounterMode(display=False) as counter:
        F.cross_entropy(model(x), data.train_labels[:32]).backward()
    return counter.get_total_flops() / 32 / 1e9


def time_to_80(data, seeds: int = 3) -> dict:
    """Training seconds until the airbench preset first scores 80 % on CIFAR-10's test set (median of seeds), and
    the roofline: the same FLOPs at the machine's measured peak."""

    spec = PRESETS[PRESET].spec
    times, images, best = [], [], []
    for seed in range(seeds):
        contender = Contender.create(PRESET, spec, seed)
        _, evals, _ = train_ours(
            [contender],
            RunConfig("cifar10", evals_per_epoch=4, seed=seed),
            data,
            stop_when=lambda e: e.test_accuracy >= TARGET,
        )
        crossed = next((e for e in evals if e.test_accuracy >= TARGET), None)
        times.append(crossed.train_time_s if crossed else math.inf)
        images.append(crossed.step * spec.train.batch_size if crossed else None)
        best.append(round(max(e.test_accuracy for e in evals), 4))
        print(f"    seed {seed}: {times[-1]:.1f} s, {images[-1]} images, best {best[-1]:.2%}", flush=True)
    median = statistics.median(times)
    precision = resolve_precision("auto", torch.device("cpu"))
    peak = measure_peak(precision, extra_specs=[spec])
    gflop = training_gflop_per_image(spec, data)
    reached = [n for n in images if n is not None]
    at_peak = statistics.median(reached) * gflop / peak["peak_gflops"] if reached else None
    mfu = at_peak / median if at_peak and math.isfinite(median) else None
    if mfu and over_one({"cifar10_mfu": mfu}):
        raise SystemExit(f"cifar10_mfu={mfu:.3f} is above 1.0: the peak was measured wrong")
    return {
        "cifar10_time_to_80_s": median if math.isfinite(median) else None,
        "cifar10_time_to_80_s_seeds": [t if math.isfinite(t) else None for t in times],
        "cifar10_time_to_80_images": images,
        "cifar10_time_to_80_best_accuracy": best,
        "cifar10_precision": precision_name(precision),
        "cifar10_training_gflop_per_image": round(gflop, 4),
        "cifar10_peak_gflops": round(peak["peak_gflops"]),
        "cifar10_peak_kernel": peak["peak_kernel"],
        "cifar10_time_to_80_at_peak_s": at_peak,  # the roofline: these FLOPs at 100 % of the peak
        "cifar10_mfu": mfu,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    for key, value in time_to_80(load_dataset("cifar10"), args.seeds).items():
        print(f"{key}: {value}")


if __name__ == "__main__":
    main()
