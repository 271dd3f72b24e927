"""Build the offline MNIST sample shipped in the package, from the official IDX files.

Stratified: the same number of images per digit, drawn with a fixed seed, so
`python playground.py` trains on real MNIST on a machine with no network.

    python scripts/build_mnist_sample.py ../shared/datasets
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from torchvision.datasets import MNIST

OUT = Path(__file__).resolve().parent.parent / "cnn_lab" / "data" / "sample_data" / "mnist_sample.npz"


def stratified(labels: np.ndarray, per_class: int, rng: np.random.Generator) -> np.ndarray:
    picks = [rng.choice(np.flatnonzero(labels == digit), per_class, replace=False) for digit in range(10)]
    return rng.permutation(np.concatenate(picks))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", help="folder holding MNIST/raw/ in torchvision's layout")
    parser.add_argument("--train-per-class", type=int, default=1000)
    parser.add_argument("--test-per-class", type=int, default=200)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    arrays = {}
    for split, per_class in (("train", args.train_per_class), ("test", args.test_per_class)):
        mnist = MNIST(args.root, train=split == "train", download=False)
        images, labels = mnist.data.numpy(), mnist.targets.numpy()
        keep = stratified(labels, per_class, rng)
        arrays[f"{split}_images"] = images[keep].astype(np.uint8)
        arrays[f"{split}_labels"] = labels[keep].astype(np.int64)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT, **arrays)
    print(
        f"wrote {OUT} ({OUT.stat().st_size / 1e6:.2f} MB): "
        f"{len(arrays['train_labels'])} train / {len(arrays['test_labels'])} test"
    )


if __name__ == "__main__":
    main()
