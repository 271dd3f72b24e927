"""Measure every preset as a user would run it: its own training settings on full MNIST.

Writes cnn_lab/core/preset_measurements.json, which the page shows next to each
preset's description, so "what to expect" is measured, not guessed.

    CNN_LAB_DATA=../shared/datasets python -m benchmarks.presets
"""

from __future__ import annotations

import json
import subprocess

from cnn_lab.core.config import RunConfig
from cnn_lab.core.events import RunFinished
from cnn_lab.core.presets import MEASUREMENTS_PATH, PRESETS
from cnn_lab.data.datasets import load_dataset
from cnn_lab.engine.contenders import Contender
from cnn_lab.engine.runtime import tune_allocator
from cnn_lab.engine.training import train_models


def cpu_name() -> str:
    lines = subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines()
    return next((line.split(":", 1)[1].strip() for line in lines if line.startswith("Model name")), "unknown CPU")


def main() -> None:
    tune_allocator()
    data = load_dataset("mnist")
    measurements = {
        "machine": f"{cpu_name()}, {__import__('os').cpu_count()} cores",
        "data": data.source,
        "presets": {},
    }
    for key, preset in PRESETS.items():
        contender = Contender.create(key, preset.spec)
        finished = next(e for e in train_models([contender], RunConfig(), data) if isinstance(e, RunFinished))
        result = finished.results[key]
        measurements["presets"][key] = {
            "epochs": preset.spec.train.epochs,
            "test_accuracy": round(result.test_accuracy, 4),
            "train_time_s": round(result.train_time_s, 1),
            "images_per_s": round(result.images_per_s),
        }
        print(key, measurements["presets"][key], flush=True)
    MEASUREMENTS_PATH.write_text(json.dumps(measurements, indent=2) + "\n")
    print(f"wrote {MEASUREMENTS_PATH}")


if __name__ == "__main__":
    main()
