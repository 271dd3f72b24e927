"""Two runs at once on the CPU: as fast in all as one after the other, and the same numbers as alone.

Runs of a server train in worker processes that take turns on all the cores (cnn_lab/engine/turns.py). This trains the
page's default pair (``--images`` training images, seed 0) once alone and then twice at the same time through the
server's own WorkerPool, ``--repeats`` times, and prints the medians: the wall time of the two at once against two
runs one after the other (1.0: turns cost nothing), and whether each run's test accuracies equal the lone run's.
Measured on this 2-core EPYC (5,000 images, bf16): 1.1-1.2 with turns (three runs of this), accuracies equal; 0.88 when the pool split the
cores (1 thread each), accuracies not equal; two runs of 2 threads each at once, without turns: 3-6x.

    CNN_LAB_DATA=../shared/datasets python -m benchmarks.concurrent_runs [--images 5000] [--repeats 3]

Writes the key concurrent_runs of benchmarks/results.json, keeping its other keys.
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
from dataclasses import replace
from pathlib import Path

from benchmarks.first_click import wait_for_quiet
from benchmarks.machine import machine
from cnn_lab.core.presets import default_experiment
from cnn_lab.data.datasets import DATASET_INFO, load_sample, with_statistics
from cnn_lab.engine.contenders import create_contenders
from cnn_lab.engine.jobs import Shipped, TrainJob
from cnn_lab.engine.worker import WorkerPool

RESULTS = Path(__file__).with_name("results.json")


def a_job(data, images: int) -> TrainJob:
    setup = default_experiment(seed=0)
    run = replace(setup.run, train_subset=images)
    return TrainJob(Shipped(create_contenders({"A": setup.a, "B": setup.b}, run)), run, data)


def train(pool: WorkerPool, job: TrainJob, out: dict, key: str) -> None:
    """Run ``job`` on the pool to its end; ``out[key]``: its test accuracies and wall time."""
    started = time.perf_counter()
    events = pool.start(job).events()
    while True:
        try:
            next(events)
        except StopIteration as end:
            finished, _ = end.value
            break
    out[key] = {
        "accuracy": {name: r.test_accuracy for name, r in finished.results.items()},
        "wall_s": time.perf_counter() - started,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--wait-s", type=float, default=300)
    args = parser.parse_args()
    data = with_statistics(DATASET_INFO["mnist"], *load_sample(), origin="offline sample")
    pool = WorkerPool()
    alone, together, same = [], [], []
    try:
        train(pool, a_job(data, args.images), {}, "warm-up")  # the worker's first run pays for its start
        for _ in range(args.repeats):
            wait_for_quiet(args.wait_s)
            out: dict = {}
            train(pool, a_job(data, args.images), out, "alone")
            started = time.perf_counter()
            threads = [
                threading.Thread(target=train, args=(pool, a_job(data, args.images), out, key))
                for key in ("first", "second")
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            together.append(time.perf_counter() - started)
            alone.append(out["alone"]["wall_s"])
            same.append(all(out[key]["accuracy"] == out["alone"]["accuracy"] for key in ("first", "second")))
    finally:
        pool.close()
    result = {
        "machine": machine(),
        "images": args.images,
        "alone_s": round(statistics.median(alone), 2),
        "two_at_once_s": round(statistics.median(together), 2),
        "two_at_once_vs_one_after_the_other": round(statistics.median(together) / (2 * statistics.median(alone)), 2),
        "same_accuracies_as_alone": all(same),
    }
    print(json.dumps(result, indent=1))
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    RESULTS.write_text(json.dumps({**results, "concurrent_runs": result}, indent=2))


if __name__ == "__main__":
    main()
