"""How often a trained default model reads drawings the way people make them.

Trains the default model for one epoch on MNIST with and without
augmentation (same seed, same order) and reports the share of the
programmatic drawing set (tests/drawn_digits.py: thick, thin, off-centre,
tiny, canvas-filling, rotated) each reads right.

    CNN_LAB_DATA=../shared/datasets python benchmarks/sketch_reading.py
"""

from __future__ import annotations

import argparse
import json
from collections import Counter

import numpy as np
import torch

from cnn_lab.config import ModelSpec, RunConfig, TrainConfig
from cnn_lab.contenders import Contender
from cnn_lab.data import load_dataset
from cnn_lab.events import RunFinished
from cnn_lab.inference import predict_images, sketch_to_mnist
from cnn_lab.training import train_models
from tests.drawn_digits import drawing_set


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--subset", type=int, default=None, help="training images (default: all)")
    args = parser.parse_args()
    data = load_dataset("mnist")
    drawings = drawing_set()
    x = torch.from_numpy(np.stack([sketch_to_mnist(img) for img, _, _ in drawings]))
    labels = torch.tensor([label for _, label, _ in drawings])
    contenders = [
        Contender.create("plain", ModelSpec(train=TrainConfig(epochs=args.epochs))),
        Contender.create("augmented", ModelSpec(train=TrainConfig(epochs=args.epochs, augment=True))),
    ]
    for event in train_models(contenders, RunConfig(train_subset=args.subset), data):
        if isinstance(event, RunFinished):
            finished = event
    probs = predict_images({c.name: c for c in contenders}, x, data.info)
    report = {"data": data.source, "drawings": len(drawings)}
    for c in contenders:
        right = torch.from_numpy(probs[c.name]).argmax(1) == labels
        misses = Counter(
            drawings[i][2].split(" ", 1)[1] if " " in drawings[i][2] else "default"
            for i in torch.nonzero(~right).flatten().tolist()
        )
        report[c.name] = {
            "mnist_test_accuracy": round(finished.results[c.name].test_accuracy, 4),
            "drawings_read_right": round(right.float().mean().item(), 4),
            "misses_by_condition": dict(misses.most_common()),
        }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
