"""What recording gradient flow costs the trainer, measured against training without it in one run.

    CNN_LAB_DATA=../shared/datasets python -m benchmarks.gradient_flow [--rounds 7] [--images 6400]

Why: every GRADIENT_EVERY-th training step records each layer's gradient norm
and each ReLU layer's dead units (cnn_lab/engine/gradient_flow.py) for the Inspect
tab. The goal: it costs under 2 % of the trainer's speed, i.e. images/s with
it / images/s without >= 0.98. A benchmark, not a timed test: it prints the
ratios and writes benchmarks/gradient_flow_results.json; nothing fails.

What: the page's default model A, alone, one epoch of --images training
images, in three settings per round, their order turning from round to round:
never recorded (0), the app's sampling (every GRADIENT_EVERY-th step) and every
step (1). Throughput is the trainer's own (RunFinished's images_per_s).
Whole runs a few seconds apart differ by several percent on a shared machine,
more than the cost measured, so the cost is also derived from the every-step
setting, whose extra time per step is large enough to measure: spread over
GRADIENT_EVERY steps, that is what sampling costs.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from benchmarks.machine import machine
from cnn_lab.core.config import RunConfig
from cnn_lab.core.events import RunFinished
from cnn_lab.core.presets import default_experiment
from cnn_lab.data.datasets import load_dataset
from cnn_lab.engine.contenders import create_contenders
from cnn_lab.engine.gradient_flow import GRADIENT_EVERY
from cnn_lab.engine.training import train_models

TARGET = 0.98
SETTINGS = (0, GRADIENT_EVERY, 1)


def images_per_s(every: int, images: int, data) -> float:
    setup = default_experiment()
    run = RunConfig(train_subset=images, evals_per_epoch=1, seed=0)
    (contender,) = create_contenders({"A": setup.a}, run)
    finished = [e for e in train_models([contender], run, data, epochs=1, gradient_every=every)][-1]
    assert isinstance(finished, RunFinished)
    return finished.results["A"].images_per_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--images", type=int, default=6400)
    args = parser.parse_args()
    data = load_dataset("mnist")
    images_per_s(0, 640, data)  # warm-up: first calls pick kernels and allocate
    speeds: dict[int, list[float]] = {every: [] for every in SETTINGS}
    for round_ in range(args.rounds):
        order = SETTINGS[round_ % len(SETTINGS) :] + SETTINGS[: round_ % len(SETTINGS)]
        for every in order:
            speeds[every].append(images_per_s(every, args.images, data))
        print(f"round {round_ + 1}: " + ", ".join(f"every {e}: {speeds[e][-1]:,.0f} img/s" for e in SETTINGS))
    median = {every: statistics.median(values) for every, values in speeds.items()}
    sampled_ratio = median[GRADIENT_EVERY] / median[0]
    every_step_extra = median[0] / median[1] - 1  # extra time per step when every step records
    derived_ratio = 1 / (1 + every_step_extra / GRADIENT_EVERY)
    results = {
        "machine": machine(),
        "images": args.images,
        "rounds": args.rounds,
        "images_per_s_median": {str(every): round(value, 1) for every, value in median.items()},
        "sampled_vs_off_ratio": round(sampled_ratio, 4),
        "every_step_extra_time": round(every_step_extra, 4),
        "sampled_vs_off_ratio_derived": round(derived_ratio, 4),
        "target": TARGET,
    }
    print(json.dumps(results, indent=2))
    verdict = "PASS" if derived_ratio >= TARGET else "FAIL"
    print(
        f"sampling every {GRADIENT_EVERY}th step: {sampled_ratio:.3f} of the speed without (whole runs), "
        f"{derived_ratio:.4f} derived from recording every step (+{every_step_extra:.1%} a step): {verdict} "
        f"against {TARGET}"
    )
    Path(__file__).with_name("gradient_flow_results.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
