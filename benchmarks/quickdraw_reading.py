"""How well the page's default pair reads Quick, Draw! sketches drawn on its sketchpad.

Trains the default pair (presets.default_experiment) on the built-in Quick,
Draw! set (quickdraw7.npz: 7,488 real sketches in 7 classes) for 1 epoch, as
the page does, for 3, and for 10 with augmentation (what the coach advises on a set this small), then reads the 1,492 held-out sketches redrawn
as a person draws them on the 280x280 sketchpad (tests/sketch_canvas.py:
random size and place, the page's 14 px brush) through the page's own
preparation: framed like Google's bitmaps (the framing measured on the
training images) and, for comparison, like an MNIST digit (the page's only
preparation before). Reports the test accuracy on the bitmaps themselves and
the share of canvas drawings read right, per model, class and seed.

    CNN_LAB_DATA=../shared/datasets python -m benchmarks.quickdraw_reading [--seeds 0 1 2] [--variants ...]

Writes benchmarks/quickdraw_reading_results.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from benchmarks.machine import machine
from cnn_lab.core.events import ModelResult, RunFinished
from cnn_lab.core.presets import default_experiment
from cnn_lab.data.datasets import load_dataset
from cnn_lab.data.framing import MNIST_FRAMING
from cnn_lab.engine.contenders import Contender
from cnn_lab.engine.training import train_models
from cnn_lab.inspect.inference import frame_drawing, predict_images
from cnn_lab.session.datasets import fitted
from tests.sketch_canvas import on_canvas

RESULTS = Path(__file__).with_name("quickdraw_reading_results.json")


VARIANTS = {  # how the pair is trained: the page's defaults, more epochs, and what the coach advises on small sets
    "1 epoch (the page's default)": (1, ()),
    "3 epochs": (3, ()),
    "10 epochs, augmented": (10, ("rotate", "shift", "scale")),
}


def trained_pair(
    data, seed: int, epochs: int, augment: tuple[str, ...]
) -> tuple[list[Contender], dict[str, ModelResult]]:
    """The page's default pair fitted to the data (as choosing the dataset does), trained ``epochs`` epochs."""
    setup = fitted(default_experiment(seed), data)
    contenders = [
        Contender.create(name, replace(spec, train=replace(spec.train, epochs=epochs, augment=augment)))
        for name, spec in (("A", setup.a), ("B", setup.b))
    ]
    run = replace(setup.run, dataset="quickdraw")
    finished = [e for e in train_models(contenders, run, data) if isinstance(e, RunFinished)][-1]
    return contenders, finished.results


def reading(contenders, canvases, labels, info, framing) -> dict:
    x = torch.from_numpy(np.stack([frame_drawing(canvas, framing) for canvas in canvases]))
    probs = predict_images({c.name: c for c in contenders}, x, info)
    out = {}
    for c in contenders:
        right = probs[c.name].argmax(1) == labels
        out[c.name] = {"all": round(float(right.mean()), 4)} | {
            name: round(float(right[labels == k].mean()), 4) for k, name in enumerate(info.class_names)
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    args = parser.parse_args()
    data = load_dataset("quickdraw")
    rng = np.random.default_rng(2026)
    canvases = [on_canvas(bitmap, rng) for bitmap in data.test_images.numpy()]
    labels = data.test_labels.numpy()
    runs = []
    for variant in args.variants:
        epochs, augment = VARIANTS[variant]
        for seed in args.seeds:
            contenders, results = trained_pair(data, seed, epochs, augment)
            row = {
                "variant": variant,
                "seed": seed,
                "train_time_s": {name: round(r.train_time_s, 1) for name, r in results.items()},
                "test_accuracy": {name: round(r.test_accuracy, 4) for name, r in results.items()},
                "canvas_framed_like_its_bitmaps": reading(contenders, canvases, labels, data.info, data.info.framing),
                "canvas_framed_like_mnist": reading(contenders, canvases, labels, data.info, MNIST_FRAMING),
            }
            runs.append(row)
            print(
                f"{variant}, seed {seed}: test {row['test_accuracy']}, canvas (bitmap framing) "
                f"A {row['canvas_framed_like_its_bitmaps']['A']['all']:.3f} "
                f"B {row['canvas_framed_like_its_bitmaps']['B']['all']:.3f}, canvas (MNIST framing) "
                f"A {row['canvas_framed_like_mnist']['A']['all']:.3f} B {row['canvas_framed_like_mnist']['B']['all']:.3f}",
                flush=True,
            )
    summary = {}
    for variant in args.variants:
        rows = [r for r in runs if r["variant"] == variant]
        for name in "AB":
            medians = {"test": statistics.median(r["test_accuracy"][name] for r in rows)}
            for key in ("canvas_framed_like_its_bitmaps", "canvas_framed_like_mnist"):
                medians[key] = statistics.median(r[key][name]["all"] for r in rows)
            medians["train_time_s"] = statistics.median(r["train_time_s"][name] for r in rows)
            summary[f"{variant}, model {name}"] = medians
    RESULTS.write_text(
        json.dumps(
            {
                "machine": machine(),
                "data": data.source,
                "framing": data.info.framing.__dict__,
                "summary": summary,
                "runs": runs,
            },
            indent=2,
        )
        + "\n"
    )
    print(json.dumps(summary, indent=2))
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
