"""How often the page's default models read drawings the way people make them.

Trains the default pair (presets.default_experiment) for its one epoch on
MNIST, and the same pair with and without augmentation, in lockstep (same
seed, same order), then reads the held-out drawing set (tests/fixtures: digits
printed in Debian's fonts, real handwriting from writers outside MNIST, and
pen strokes drawn with the mouse on the page's sketchpad in Chromium) with
and without stroke-width matching. Reports the share read right per source
and model, and the project's own programmatic drawings for comparison.

    CNN_LAB_DATA=../shared/datasets python -m benchmarks.sketch_reading [--subset N] [--seed S]

Writes benchmarks/sketch_reading_results.json.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from benchmarks.machine import machine
from cnn_lab.core.config import DEFAULT_AUGMENTATIONS, ModelSpec
from cnn_lab.core.events import RunFinished
from cnn_lab.core.presets import default_experiment
from cnn_lab.data.datasets import load_dataset
from cnn_lab.engine.contenders import Contender
from cnn_lab.engine.training import train_models
from cnn_lab.inspect.inference import predict_images, sketch_to_mnist
from tests.drawn_digits import drawing_set
from tests.real_drawings import SOURCES, real_drawing_set


def with_augmentation(spec: ModelSpec, kinds: tuple[str, ...]) -> ModelSpec:
    return replace(spec, train=replace(spec.train, augment=kinds))


def read_rates(
    contenders: list[Contender],
    canvases: list[np.ndarray] | np.ndarray,
    labels: np.ndarray,
    groups: np.ndarray,
    info,
    match_stroke: bool,
) -> dict:
    """Share read right per model and group (and over all), for one way of preprocessing the drawings."""
    x = torch.from_numpy(np.stack([sketch_to_mnist(canvas, match_stroke=match_stroke) for canvas in canvases]))
    probs = predict_images({c.name: c for c in contenders}, x, info)
    out = {}
    for c in contenders:
        right = probs[c.name].argmax(1) == labels
        out[c.name] = {group: round(float(right[groups == group].mean()), 4) for group in dict.fromkeys(groups)}
        out[c.name]["all"] = round(float(right.mean()), 4)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subset", type=int, default=None, help="training images (default: all)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    data = load_dataset("mnist")
    setup = default_experiment(seed=args.seed)
    run = replace(setup.run, train_subset=args.subset, evals_per_epoch=1)
    specs = {
        "A": with_augmentation(setup.a, ()),
        "B": with_augmentation(setup.b, ()),
        "A augmented": with_augmentation(setup.a, DEFAULT_AUGMENTATIONS),
        "B augmented": with_augmentation(setup.b, DEFAULT_AUGMENTATIONS),
    }
    contenders = [Contender.create(name, spec, run.seed) for name, spec in specs.items()]
    finished = next(e for e in train_models(contenders, run, data) if isinstance(e, RunFinished))

    real = real_drawing_set()
    programmatic = drawing_set()
    report = {
        "machine": machine(),
        "data": data.source,
        "seed": args.seed,
        "drawings": {source: int((real["source"] == source).sum()) for source in SOURCES}
        | {"programmatic": len(programmatic)},
        "mnist_test_accuracy": {name: round(r.test_accuracy, 4) for name, r in finished.results.items()},
    }
    for match_stroke in (False, True):
        key = "stroke_matched" if match_stroke else "as_drawn"
        report[key] = read_rates(contenders, real["images"], real["labels"], real["source"], data.info, match_stroke)
        own = read_rates(
            contenders,
            [img for img, _, _ in programmatic],  # canvases of 200-400 px
            np.array([label for _, label, _ in programmatic]),
            np.array(["programmatic"] * len(programmatic)),
            data.info,
            match_stroke,
        )
        for name in specs:
            report[key][name]["programmatic"] = own[name]["programmatic"]
    out = Path(__file__).with_name("sketch_reading_results.json")
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
