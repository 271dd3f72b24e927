"""Time to 99 % on one GPU: the best preset on full MNIST, the data resident on the device, median of 3 seeds.

Ready to run in one call on a lent GPU machine (a few minutes at most; nothing is downloaded):

    CNN_LAB_DATA=../shared/datasets python -m benchmarks.gpu_time_to_99 [--batch 128,512]

Each batch size trains the preset *99% in seconds* (one epoch, Adam under a one-cycle schedule); a larger batch
scales the peak learning rate with it (linear scaling, capped at 0.04): fewer, larger steps suit a GPU, whose
per-step cost on MNIST is mostly launching kernels. One untimed run first pays for the CUDA context and cuDNN's
choice of kernels. The time is the engine's training time (steps only, evaluations excluded) until the first
evaluation at >= 99.0 %, eight evaluations an epoch. Writes benchmarks/results-gpu.json; the goal is the record of
0.76 s on a GTX 1660 Ti (tuomaso/train_mnist_fast), the must-reach 2 s (issue 36). ``--device cpu`` runs the same
script here, to check it before a GPU is lent.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch

from benchmarks.machine import machine
from benchmarks.run import time_to_99, verdict
from cnn_lab.core.presets import PRESETS
from cnn_lab.data.datasets import load_dataset
from cnn_lab.engine.runtime import tune_allocator

GOAL = {"gpu_time_to_99_s": ("<=", 0.76, 2)}


def preset_at_batch(batch: int):
    spec = PRESETS["fast99"].spec
    rate = min(0.04, spec.train.learning_rate * batch / spec.train.batch_size)
    return replace(spec, train=replace(spec.train, batch_size=batch, learning_rate=rate))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", default="128,512", help="comma-separated batch sizes (default: 128,512)")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--device", default="cuda", help="cuda (default), or cpu to try the script")
    args = parser.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit("no CUDA device here: run this on a GPU machine (or with --device cpu to try it)")
    tune_allocator()
    data = load_dataset("mnist", os.environ.get("CNN_LAB_DATA"))
    if len(data.train_labels) < 60_000:
        sys.exit("set CNN_LAB_DATA to a folder with full MNIST (e.g. ../shared/datasets)")
    about = machine() | {"device": torch.cuda.get_device_name() if args.device == "cuda" else "cpu"}
    started = time.perf_counter()
    time_to_99(data, 1, args.device, preset_at_batch(128))  # warm-up: context, kernels chosen; not counted
    by_batch = {}
    for batch in (int(b) for b in args.batch.split(",")):
        measured = time_to_99(data, args.seeds, args.device, preset_at_batch(batch))
        by_batch[batch] = measured
        print(f"batch {batch}: {measured}", flush=True)
    reached = {b: m["time_to_99_s"] for b, m in by_batch.items() if m["time_to_99_s"] is not None}
    best = min(reached, key=reached.get) if reached else None
    results = {
        "machine": about,
        "gpu_time_to_99_s": reached[best] if best else None,
        "best_batch": best,
        "by_batch": by_batch,
        "total_s": time.perf_counter() - started,
        "measured_at": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    value = results["gpu_time_to_99_s"]
    print(f"gpu_time_to_99_s {value}  {verdict('gpu_time_to_99_s', value, GOAL)} (median of {args.seeds} seeds)")
    out = Path(__file__).with_name("results-gpu.json" if args.device == "cuda" else "results-gpu-try.json")
    out.write_text(json.dumps(results, indent=2, default=str))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
