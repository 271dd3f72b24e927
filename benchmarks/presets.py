"""Measure presets as a user would run them: their own training settings on full MNIST, and on full CIFAR-10.

Writes cnn_lab/core/preset_measurements.json, which the page shows next to each
preset's description, so "what to expect" is measured, not guessed. MNIST:
every preset, in the precision the page picks. CIFAR-10 (``--cifar10``, which
keeps the MNIST figures): the colour presets and the page's default model at
their own settings, in fp32 and, where the CPU multiplies bf16 natively, bf16;
and the page's default pair as the page trains it (20,000 images, 1 epoch).

    CNN_LAB_DATA=../shared/datasets python -m benchmarks.presets [--cifar10]
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import replace

import torch

from benchmarks.machine import machine
from cnn_lab.core.config import ModelSpec, RunConfig
from cnn_lab.core.events import ModelResult, RunFinished
from cnn_lab.core.presets import MEASUREMENTS_PATH, PRESETS, default_experiment
from cnn_lab.data.datasets import Dataset, load_dataset
from cnn_lab.engine.contenders import Contender
from cnn_lab.engine.runtime import resolve_precision, tune_allocator
from cnn_lab.engine.training import train_models
from cnn_lab.session.datasets import fitted

CIFAR10_PRESETS = ("photo_small", "airbench", "default")  # the colour presets, and the page's default model


def trained(specs: dict[str, ModelSpec], run: RunConfig, data: Dataset) -> dict[str, ModelResult]:
    contenders = [Contender.create(name, spec) for name, spec in specs.items()]
    return next(e for e in train_models(contenders, run, data) if isinstance(e, RunFinished)).results


def figures(result: ModelResult, epochs: int) -> dict:
    return {
        "epochs": epochs,
        "test_accuracy": round(result.test_accuracy, 4),
        "train_time_s": round(result.train_time_s, 1),
        "images_per_s": round(result.images_per_s),
    }


def machine_line() -> str:
    about = machine()
    return f"{about['cpu']}, {about['cores']} cores"


def measure_mnist() -> dict:
    data = load_dataset("mnist")
    section = {"machine": machine_line(), "data": data.source, "presets": {}}
    for key, preset in PRESETS.items():
        spec = replace(preset.spec, model=replace(preset.spec.model, input_shape=data.image_shape))
        result = trained({key: spec}, RunConfig(), data)[key]
        section["presets"][key] = figures(result, preset.spec.train.epochs)
        print(key, section["presets"][key], flush=True)
    return section


def measure_cifar10() -> dict:
    data = load_dataset("cifar10")
    precisions = ["fp32"] + (["bf16"] if resolve_precision("auto", torch.device("cpu")) == torch.bfloat16 else [])
    section = {"machine": machine_line(), "data": data.source, "presets": {}, "default_pair": {}}
    for key in CIFAR10_PRESETS:
        spec = PRESETS[key].spec
        spec = replace(spec, model=replace(spec.model, input_shape=data.image_shape))
        section["presets"][key] = {}
        for precision in precisions:
            result = trained({key: spec}, RunConfig("cifar10", precision=precision), data)[key]
            section["presets"][key][precision] = figures(result, spec.train.epochs)
            print(key, precision, section["presets"][key][precision], flush=True)
    setup = fitted(default_experiment(), data)
    results = trained({"A": setup.a, "B": setup.b}, replace(setup.run, dataset="cifar10"), data)
    section["default_pair"] = {
        "train_images": setup.run.train_subset,
        **{name: figures(r, 1) for name, r in results.items()},
    }
    print("default pair", section["default_pair"], flush=True)
    return section


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cifar10", action="store_true", help="measure on CIFAR-10 only, keeping the MNIST figures")
    args = parser.parse_args()
    tune_allocator()
    kept = json.loads(MEASUREMENTS_PATH.read_text()) if MEASUREMENTS_PATH.exists() else {}
    if args.cifar10:
        measurements = kept | {"cifar10": measure_cifar10()}
    else:
        measurements = measure_mnist() | {k: v for k, v in kept.items() if k == "cifar10"}
    MEASUREMENTS_PATH.write_text(json.dumps(measurements, indent=2) + "\n")
    print(f"wrote {MEASUREMENTS_PATH} ({os.path.getsize(MEASUREMENTS_PATH):,} bytes)")


if __name__ == "__main__":
    main()
