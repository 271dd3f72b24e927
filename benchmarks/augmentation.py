"""Trainer throughput with augmented batches against unaugmented ones, measured side by side in one run.

    CNN_LAB_DATA=../shared/datasets python benchmarks/augmentation.py [--rounds 5] [--images 6400]

Why: augmentation runs on the whole batch inside the training step
(cnn_lab/augmentation.py), so its cost is paid by every step. The goal is
that augmented batches keep the trainer's throughput within 15% of
unaugmented ones: images/s with augmentation / images/s without >= 0.85.
This is a benchmark, not a timed test: it prints the ratios and writes them
to benchmarks/augmentation_results.json.

What: the default model (adam, batch 64, one epoch on --images training
images) is trained once per configuration: no augmentation (the baseline),
the default set (what ``augment=True`` means), all kinds, and each kind on
its own, so the costly one shows. Each round trains every configuration once,
in an order rotated from round to round, so drift on a shared machine hits
all of them alike. The throughput is the trainer's own (RunFinished's
images_per_s: training steps only, evaluation excluded; the test set is left
out so no time goes to evaluating). Reported per configuration: the median
images/s over the rounds, the ratio of medians against the baseline, the
spread of the per-round ratios, and, for the default and all-kinds sets, PASS
or FAIL against 0.85. Next to it, the cost of augment_batch alone on one
64-image batch (median of many calls), which tells which transform costs what
without the training around it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cnn_lab.augmentation import augment_batch  # noqa: E402
from cnn_lab.config import AUGMENTATIONS, DEFAULT_AUGMENTATIONS, ModelSpec, RunConfig, TrainConfig, default_model  # noqa: E402
from cnn_lab.data import load_dataset  # noqa: E402
from cnn_lab.training import Contender, RunFinished, train_models  # noqa: E402

TARGET = 0.85  # augmented images/s / plain images/s
BATCH = 64
CONFIGS: dict[str, tuple[str, ...]] = {
    "none": (),
    "default": DEFAULT_AUGMENTATIONS,
    "all": AUGMENTATIONS,
    **{kind: (kind,) for kind in AUGMENTATIONS},
}
JUDGED = ("default", "all")  # the sets the goal is about; single kinds are for diagnosis


def train_once(kinds: tuple[str, ...], images: int, data) -> tuple[float, float]:
    """One epoch of the default model on ``images`` training images; (the trainer's images/s, CPU seconds / wall seconds)."""
    contender = Contender.create("A", ModelSpec(default_model(), TrainConfig("adam", 1e-3, BATCH, 1, augment=kinds)))
    usage, started = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    finished = [e for e in train_models([contender], RunConfig(train_subset=images, evals_per_epoch=1), data) if isinstance(e, RunFinished)][-1]
    after, wall = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter() - started
    cpu = (after.ru_utime - usage.ru_utime) + (after.ru_stime - usage.ru_stime)
    return finished.results["A"].images_per_s, cpu / wall


def augment_alone_ms(data, calls: int = 40) -> dict[str, float]:
    """Median milliseconds of augment_batch on one 64-image batch, per configuration (alternating, like the training rounds)."""
    x = data.train_images[:BATCH].unsqueeze(1).float().div(255)
    generator = torch.Generator().manual_seed(0)
    times: dict[str, list[float]] = {name: [] for name in CONFIGS if CONFIGS[name]}
    for name in times:  # warm-up
        augment_batch(x, generator, CONFIGS[name])
    for _ in range(calls):
        for name in times:
            started = time.perf_counter()
            augment_batch(x, generator, CONFIGS[name])
            times[name].append(time.perf_counter() - started)
    return {name: statistics.median(t) * 1000 for name, t in times.items()}


def machine() -> dict:
    model = platform.processor()
    try:
        model = next(line.split(":", 1)[1].strip() for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines() if line.startswith("Model name"))
    except (OSError, StopIteration):
        pass
    return {"cpu": model, "cores": os.cpu_count(), "torch_threads": torch.get_num_threads(), "torch": torch.__version__}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="rounds; each trains every configuration once (default 5)")
    parser.add_argument("--images", type=int, default=6400, help="training images per run, one epoch (default 6400: 100 steps)")
    args = parser.parse_args()
    if args.rounds < 1 or args.images < BATCH:
        parser.error(f"--rounds must be at least 1 and --images at least {BATCH}")

    data = load_dataset("mnist", os.environ.get("CNN_LAB_DATA"))
    data = replace(data, test_images=data.test_images[:0], test_labels=data.test_labels[:0])  # no evaluation: training time only
    images = min(args.images, len(data.train_labels))
    names = list(CONFIGS)
    started = time.perf_counter()
    load_before = os.getloadavg()
    print(f"augmentation vs plain: {len(names)} configurations x {args.rounds} rounds, {images} images (batch {BATCH}) per run, "
          f"data: {data.origin}; load average {load_before[0]:.2f}", flush=True)

    for name in names:  # untimed warm-up, so no configuration pays the first-run costs
        train_once(CONFIGS[name], BATCH * 10, data)

    speeds: dict[str, list[float]] = {name: [] for name in names}
    cpu_per_wall: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(args.rounds):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:  # rotated order: no configuration always runs first or after the same one
            speed, busy = train_once(CONFIGS[name], images, data)
            speeds[name].append(speed)
            cpu_per_wall[name].append(busy)
        print(f"  round {round_ + 1}/{args.rounds}: " + ", ".join(f"{n} {speeds[n][-1]:.0f}" for n in names) + " images/s", flush=True)

    alone_ms = augment_alone_ms(data)
    baseline = statistics.median(speeds["none"])
    table = {}
    for name in names:
        per_round = [s / b for s, b in zip(speeds[name], speeds["none"])]
        ratio = statistics.median(speeds[name]) / baseline
        table[name] = {
            "kinds": list(CONFIGS[name]),
            "images_per_s": statistics.median(speeds[name]),
            "images_per_s_rounds": speeds[name],
            "ratio": ratio,
            "ratio_rounds": per_round,
            "cpu_per_wall": statistics.median(cpu_per_wall[name]),
            "augment_ms_per_batch": alone_ms.get(name, 0.0),
            **({"passed": ratio >= TARGET} if name in JUDGED else {}),
        }
    load_after = os.getloadavg()
    total_s = time.perf_counter() - started

    info = machine()
    print(f"\ntrainer throughput with augmentation on {info['cpu']} ({info['cores']} cores, {info['torch_threads']} torch threads), torch {info['torch']}")
    print(f"  {'configuration':14s} {'images/s':>9s} {'ratio':>7s} {'per-round':>13s} {'cpu/wall':>9s} {'aug ms/batch':>13s}  goal")
    for name, row in table.items():
        low, high = min(row["ratio_rounds"]), max(row["ratio_rounds"])
        goal = f">= {TARGET:g}  {'PASS' if row['passed'] else 'FAIL'}" if name in JUDGED else ""
        label = name if name in ("none", "default", "all") else f"  {name}"
        print(f"  {label:14s} {row['images_per_s']:9.0f} {row['ratio']:7.3f} {low:6.2f}-{high:<6.2f} {row['cpu_per_wall']:9.2f} {row['augment_ms_per_batch']:13.2f}  {goal}")
    print(f"  default = {'+'.join(DEFAULT_AUGMENTATIONS)}; all = {'+'.join(AUGMENTATIONS)}")
    print(f"  ratio: median images/s / median images/s without augmentation; per-round: min-max of the same ratio within each round")
    print(f"  load average {load_before[0]:.2f} before, {load_after[0]:.2f} after ({info['cores']} cores); {total_s:.0f} s in all")

    results = {
        "machine": info,
        "rounds": args.rounds,
        "images_per_run": images,
        "batch_size": BATCH,
        "data": data.origin,
        "target_ratio": TARGET,
        "configurations": table,
        "default_ratio": table["default"]["ratio"],
        "all_ratio": table["all"]["ratio"],
        "passed": all(table[name]["passed"] for name in JUDGED),
        "load_average_before": load_before[0],
        "load_average_after": load_after[0],
        "total_s": total_s,
    }
    out = Path(__file__).parent / "augmentation_results.json"
    out.write_text(json.dumps(results, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
