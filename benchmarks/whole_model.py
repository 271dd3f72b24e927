"""What each of Inspect's whole-model views costs for the page's default pair, on this machine.

Trains the default pair as the page does (20,000 MNIST images, 1 epoch),
reads a drawn 3 (so the maps and the attack have a drawing), then times each
view as the page computes it (session.inspection), median of 3 calls.

    CNN_LAB_DATA=../shared/datasets python -m benchmarks.whole_model

Writes benchmarks/whole_model_results.json.
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

from benchmarks.machine import machine
from cnn_lab.core.presets import default_experiment
from cnn_lab.session import Session, Workspace
from tests.drawn_digits import render_digit

RESULTS = Path(__file__).with_name("whole_model_results.json")


def main() -> None:
    session = Session(Workspace(processes=False))
    events = session.training.train(default_experiment())
    for _ in events:
        pass
    session.inspection.read_sketch(render_digit(3))
    views = {
        "learned space, PCA": lambda: session.inspection.learned_space("pca"),
        "learned space, t-SNE": lambda: session.inspection.learned_space("tsne"),
        "robustness": session.inspection.robustness,
        "adversarial, PGD": lambda: session.inspection.adversarial("pgd"),
        "adversarial, FGSM": lambda: session.inspection.adversarial("fgsm"),
        "weights over time": session.inspection.weights_over_time,
        "loss along a line": session.inspection.loss_lines,
    }
    seconds = {}
    for name, view in views.items():
        times = []
        for _ in range(3):
            started = time.perf_counter()
            view()
            times.append(time.perf_counter() - started)
        seconds[name] = round(statistics.median(times), 2)
        print(f"{name}: {seconds[name]:.2f} s (median of 3)", flush=True)
    RESULTS.write_text(json.dumps({"machine": machine(), "seconds": seconds}, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
