"""Does the page's default pair learn, every time? Its first run on every dataset, over several seeds.

Trains the default setup (presets.default_experiment: what the page shows on
first load, 20,000 training images) for its one epoch on MNIST, the offline
MNIST sample (all of its 10,000) and Fashion-MNIST, once per seed, and records each model's test accuracy,
whether the learning watch flagged it, its first step below a loss of 2.0
(how long its slow start lasts) and the run's wall time.

    CNN_LAB_DATA=../shared/datasets python -m benchmarks.defaults [--seeds 5] [--datasets mnist sample fashion_mnist]

Writes benchmarks/defaults_results.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from benchmarks.machine import machine
from cnn_lab.core.events import RunFinished, StepEvent
from cnn_lab.core.presets import default_experiment
from cnn_lab.data.datasets import DATASET_INFO, load_dataset, load_sample, with_statistics
from cnn_lab.engine.contenders import create_contenders
from cnn_lab.engine.learning_watch import LearningAlert
from cnn_lab.engine.training import train_models

DATASETS = {  # name -> how to load it
    "mnist": lambda: load_dataset("mnist"),
    "sample": lambda: with_statistics(DATASET_INFO["mnist"], *load_sample(), origin="offline sample"),
    "fashion_mnist": lambda: load_dataset("fashion_mnist"),
}


def one_run(data, seed: int) -> dict:
    setup = default_experiment(seed=seed)
    contenders = create_contenders({"A": setup.a, "B": setup.b}, setup.run)
    first_below_2, alerts, started = {}, [], time.perf_counter()
    for event in train_models(contenders, setup.run, data):
        if isinstance(event, StepEvent) and event.loss < 2.0:
            first_below_2.setdefault(event.model, event.step)
        elif isinstance(event, LearningAlert):
            alerts.append(event.message)
        elif isinstance(event, RunFinished):
            results = event.results
    return {
        "seed": seed,
        "test_accuracy": {name: round(r.test_accuracy, 4) for name, r in results.items()},
        "first_step_below_loss_2": first_below_2,
        "alerts": alerts,
        "wall_s": round(time.perf_counter() - started, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    args = parser.parse_args()
    setup = default_experiment()
    report = {"machine": machine(), "setup": json.loads(setup.to_json()), "datasets": {}}
    for name in args.datasets:
        data = DATASETS[name]()
        runs = []
        for seed in range(args.seeds):
            runs.append(one_run(data, seed))
            print(name, json.dumps(runs[-1]), flush=True)
        report["datasets"][name] = {
            "source": data.source,
            "runs": runs,
            "min_test_accuracy": {m: min(r["test_accuracy"][m] for r in runs) for m in ("A", "B")},
            "median_test_accuracy": {m: statistics.median(r["test_accuracy"][m] for r in runs) for m in ("A", "B")},
            "flagged_runs": sum(bool(r["alerts"]) for r in runs),
            "median_wall_s": statistics.median(r["wall_s"] for r in runs),
        }
    out = Path(__file__).with_name("defaults_results.json")
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(
        json.dumps(
            {
                k: {m: v[m] for m in ("min_test_accuracy", "flagged_runs", "median_wall_s")}
                for k, v in report["datasets"].items()
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
