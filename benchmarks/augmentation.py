"""Trainer throughput with augmented batches against unaugmented ones, measured side by side in one run.

    CNN_LAB_DATA=../shared/datasets python -m benchmarks.augmentation [--rounds 5] [--images 6400] [--separate]

Why: augmentation runs on the whole batch inside every training step
(cnn_lab/data/augmentation.py), so the trainer pays for it on each step. The goal:
augmented batches keep the trainer's throughput within 15% of unaugmented
ones, i.e. images/s with augmentation / images/s without >= 0.85. This is a
benchmark, not a timed test: it prints the ratios and writes them to
benchmarks/augmentation_results.json; nothing fails.

What: the default model (adam, batch 64, one epoch on --images training
images) per configuration: the default set (what ``augment=True`` means),
all kinds, and each kind on its own, so the costly one shows. Each round
trains every configuration once, in lockstep with an unaugmented twin in the
same train_models call (an A/B run, as the app does; the twin is A or B in
turn). The two alternate step by step, so the load of a shared machine hits
both alike; separate runs a few seconds apart differ by up to 30% here on a
quiet 2-core machine. --separate instead trains each configuration alone,
round-robin with a plain run in each round. The order of the configurations
turns from round to round. Throughput is the trainer's own (RunFinished's
images_per_s: training steps only; the test set is left out, so no time goes
to evaluation).

Printed per configuration: the median images/s over the rounds, the ratio of
that median to the median of its unaugmented twins, the min-max of the
per-round ratios, CPU seconds per wall second (well below the torch thread
count: the run was short of CPU, another process was busy), the cost of
augment_batch alone on one 64-image batch (median of 40 calls), and PASS or
FAIL against 0.85 for the default and the all-kinds sets.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import time
from dataclasses import replace
from pathlib import Path

import torch

from benchmarks.machine import machine
from cnn_lab.core.config import AUGMENTATIONS, DEFAULT_AUGMENTATIONS, ModelSpec, RunConfig, TrainConfig, default_model
from cnn_lab.core.events import RunFinished
from cnn_lab.data.augmentation import augment_batch
from cnn_lab.data.datasets import load_dataset
from cnn_lab.engine.contenders import Contender
from cnn_lab.engine.training import train_models

TARGET = 0.85  # augmented images/s / unaugmented images/s
BATCH = 64
PLAIN = "none"
CONFIGS: dict[str, tuple[str, ...]] = {
    "default": DEFAULT_AUGMENTATIONS,
    "all": AUGMENTATIONS,
    **{kind: (kind,) for kind in AUGMENTATIONS},
}
JUDGED = ("default", "all")  # the sets the goal is about; single kinds show where the cost is


def train(runs: list[tuple[str, tuple[str, ...]]], images: int, data) -> tuple[dict[str, float], float]:
    """One train_models call, the (name, kinds) contenders in lockstep, one epoch on ``images`` images; (images/s per name, CPU s / wall s)."""
    contenders = [
        Contender.create(name, ModelSpec(default_model(), TrainConfig("adam", 1e-3, BATCH, 1, augment=kinds)))
        for name, kinds in runs
    ]
    usage, started = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    finished = [
        e
        for e in train_models(contenders, RunConfig(train_subset=images, evals_per_epoch=1), data)
        if isinstance(e, RunFinished)
    ][-1]
    after, wall = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter() - started
    cpu = (after.ru_utime - usage.ru_utime) + (after.ru_stime - usage.ru_stime)
    return {name: finished.results[name].images_per_s for name, _ in runs}, cpu / wall


def measure(rounds: int, images: int, data, separate: bool) -> dict[str, dict[str, list[float]]]:
    """Per configuration and round: its images/s ("aug"), its unaugmented reference's ("plain"), CPU per wall ("busy")."""
    names = list(CONFIGS)
    out = {name: {"aug": [], "plain": [], "busy": []} for name in names}
    for round_ in range(rounds):
        if separate:
            order = [PLAIN, *names]
            order = order[round_ % len(order) :] + order[: round_ % len(order)]
            speed, busy = {}, {}
            for name in order:
                speeds, busy[name] = train([(name, CONFIGS.get(name, ()))], images, data)
                speed.update(speeds)
            for name in names:
                out[name]["aug"].append(speed[name])
                out[name]["plain"].append(speed[PLAIN])
                out[name]["busy"].append(busy[name])
        else:
            for i, name in enumerate(names[round_ % len(names) :] + names[: round_ % len(names)]):
                pair = [(PLAIN, ()), (name, CONFIGS[name])]
                speeds, busy = train(pair if (round_ + i) % 2 else pair[::-1], images, data)
                out[name]["aug"].append(speeds[name])
                out[name]["plain"].append(speeds[PLAIN])
                out[name]["busy"].append(busy)
        print(
            f"  round {round_ + 1}/{rounds}: "
            + ", ".join(f"{n} {out[n]['aug'][-1] / out[n]['plain'][-1]:.2f}" for n in names),
            flush=True,
        )
    return out


def augment_alone_ms(data, calls: int = 40) -> dict[str, float]:
    """Median milliseconds of augment_batch on one 64-image batch, per configuration (round-robin)."""
    x = data.train_images[:BATCH].unsqueeze(1).float().div(255)
    generator = torch.Generator().manual_seed(0)
    times: dict[str, list[float]] = {name: [] for name in CONFIGS}
    for name in times:  # warm-up
        augment_batch(x, generator, CONFIGS[name])
    for _ in range(calls):
        for name in times:
            started = time.perf_counter()
            augment_batch(x, generator, CONFIGS[name])
            times[name].append(time.perf_counter() - started)
    return {name: statistics.median(t) * 1000 for name, t in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rounds", type=int, default=5, help="rounds; each trains every configuration once (default 5)"
    )
    parser.add_argument(
        "--images",
        type=int,
        default=6400,
        help="training images per model and run, one epoch (default 6400: 100 steps)",
    )
    parser.add_argument(
        "--separate",
        action="store_true",
        help="train each configuration alone (round-robin with a plain run) instead of in lockstep with a plain twin",
    )
    args = parser.parse_args()
    if args.rounds < 1 or args.images < BATCH:
        parser.error(f"--rounds must be at least 1 and --images at least {BATCH}")

    data = load_dataset("mnist", os.environ.get("CNN_LAB_DATA"))
    data = replace(
        data, test_images=data.test_images[:0], test_labels=data.test_labels[:0]
    )  # no evaluation: training time only
    images = min(args.images, len(data.train_labels))
    mode = "separate runs" if args.separate else "lockstep with a plain twin"
    started, load_before = time.perf_counter(), os.getloadavg()[0]
    print(
        f"augmentation vs plain: {len(CONFIGS)} configurations x {args.rounds} rounds, {mode}, {images} images (batch {BATCH}) "
        f"per model and run, data: {data.origin}; load average {load_before:.2f}",
        flush=True,
    )

    train(
        [(PLAIN, ()), ("all", AUGMENTATIONS)], BATCH * 10, data
    )  # untimed warm-up: no configuration pays first-run costs
    measured = measure(args.rounds, images, data, args.separate)
    alone_ms = augment_alone_ms(data)
    load_after, total_s = os.getloadavg()[0], time.perf_counter() - started

    plain_all = [s for m in measured.values() for s in m["plain"]]
    table = {PLAIN: {"kinds": [], "images_per_s": statistics.median(plain_all), "images_per_s_rounds": plain_all}}
    for name, m in measured.items():
        per_round = [a / p for a, p in zip(m["aug"], m["plain"])]
        ratio = statistics.median(m["aug"]) / statistics.median(m["plain"])
        table[name] = {
            "kinds": list(CONFIGS[name]),
            "images_per_s": statistics.median(m["aug"]),
            "images_per_s_rounds": m["aug"],
            "plain_images_per_s": statistics.median(m["plain"]),
            "plain_images_per_s_rounds": m["plain"],
            "ratio": ratio,
            "ratio_rounds": per_round,
            "cpu_per_wall": statistics.median(m["busy"]),
            "augment_ms_per_batch": alone_ms[name],
            **({"passed": ratio >= TARGET} if name in JUDGED else {}),
        }

    info = machine()
    print(
        f"\ntrainer throughput with augmentation on {info['cpu']} ({info['cores']} cores, {info['torch_threads']} torch threads), torch {info['torch']}"
    )
    print(
        f"  {'configuration':14s} {'images/s':>9s} {'plain':>7s} {'ratio':>7s} {'per-round':>11s} {'cpu/wall':>9s} {'aug ms/batch':>13s}  goal"
    )
    print(f"  {PLAIN:14s} {table[PLAIN]['images_per_s']:9.0f}")
    for name in CONFIGS:
        row = table[name]
        low, high = min(row["ratio_rounds"]), max(row["ratio_rounds"])
        goal = f">= {TARGET:g}  {'PASS' if row['passed'] else 'FAIL'}" if name in JUDGED else ""
        label = name if name in JUDGED else f"  {name}"
        print(
            f"  {label:14s} {row['images_per_s']:9.0f} {row['plain_images_per_s']:7.0f} {row['ratio']:7.3f} {low:5.2f}-{high:<5.2f}"
            f" {row['cpu_per_wall']:9.2f} {row['augment_ms_per_batch']:13.2f}  {goal}"
        )
    print(f"  default = {'+'.join(DEFAULT_AUGMENTATIONS)}; all = {'+'.join(AUGMENTATIONS)}")
    print(
        "  images/s, plain: medians over the rounds of the configuration and of its unaugmented reference; ratio = images/s / plain;"
    )
    print("  per-round: min-max of the ratio within each round; aug ms/batch: augment_batch alone on 64 images")
    print(
        f"  load average {load_before:.2f} before, {load_after:.2f} after ({info['cores']} cores); {total_s:.0f} s in all"
    )

    results = {
        "machine": info,
        "mode": "separate" if args.separate else "lockstep",
        "rounds": args.rounds,
        "images_per_run": images,
        "batch_size": BATCH,
        "data": data.origin,
        "target_ratio": TARGET,
        "default_ratio": table["default"]["ratio"],
        "all_ratio": table["all"]["ratio"],
        "passed": all(table[name]["passed"] for name in JUDGED),
        "configurations": table,
        "load_average_before": load_before,
        "load_average_after": load_after,
        "total_s": total_s,
    }
    out = Path(__file__).parent / "augmentation_results.json"
    out.write_text(json.dumps(results, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
