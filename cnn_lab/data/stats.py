"""What a dataset holds, counted before any training: classes, sizes, pixel statistics, and test images that
also appear in the training split (a test score on those measures memory, not generalisation)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import torch

from cnn_lab.data.datasets import Dataset


@dataclass(frozen=True)
class DataOverview:
    """A dataset's numbers as the Data tab shows them."""

    image_shape: tuple[int, int, int]
    train_counts: tuple[int, ...]  # per class
    test_counts: tuple[int, ...]
    mean: tuple[float, ...]  # per channel, of pixels in [0, 1]
    std: tuple[float, ...]
    duplicates: int  # test images identical to some training image

    @property
    def imbalance(self) -> float:
        """The largest class over the smallest, in the training split (1: balanced)."""
        return max(self.train_counts) / max(min(self.train_counts), 1)


def image_hashes(images: torch.Tensor) -> list[bytes]:
    """A digest of each image's pixels: equal digests, equal images."""
    rows = images.reshape(len(images), -1).numpy()
    return [hashlib.blake2b(row.tobytes(), digest_size=16).digest() for row in rows]


def duplicates_between(train: torch.Tensor, test: torch.Tensor) -> int:
    """How many test images are pixel for pixel a training image."""
    seen = set(image_hashes(train))
    return sum(h in seen for h in image_hashes(test))


def overview(data: Dataset) -> DataOverview:
    k = data.info.num_classes
    return DataOverview(
        data.image_shape,
        tuple(data.train_labels.bincount(minlength=k).tolist()),
        tuple(data.test_labels.bincount(minlength=k).tolist()),
        data.info.mean,
        data.info.std,
        duplicates_between(data.train_images, data.test_images),
    )


def examples_per_class(data: Dataset, per_class: int) -> tuple[np.ndarray, list[int]]:
    """The first ``per_class`` training images of every class, class by class, with their labels."""
    picks = [
        i
        for label in range(data.info.num_classes)
        for i in (data.train_labels == label).nonzero().flatten()[:per_class].tolist()
    ]
    return data.train_images[picks].numpy(), data.train_labels[picks].tolist()
