"""How models trained on one dataset read another one's images of the same classes: domain shift, class by class.

A model that reads 99 % of MNIST's test digits may read far fewer digits
written by other people, scanned otherwise or drawn with a mouse: its
accuracy belongs to the data it was measured on. Reading a second dataset's
test images with the classes both share (matched by name), each class beside
the models' own test accuracy for it, shows where the shift hurts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from cnn_lab.core.errors import ConfigError
from cnn_lab.data.datasets import Dataset
from cnn_lab.engine.contenders import Contender
from cnn_lab.inspect.confusion import PairScores
from cnn_lab.inspect.inference import predict_images

MAX_IMAGES = 10_000  # of the other set's test split: a few seconds on 2 cores for the default pair
PREDICT_BATCH = 1000


@dataclass(frozen=True)
class CrossReading:
    """Per shared class: how many of the other set's images were read, and each model's share read right there and
    on its own test set."""

    trained_on: str
    read: str
    class_names: tuple[str, ...]
    images: np.ndarray
    other: dict[str, np.ndarray]
    own: dict[str, np.ndarray]
    resized_from: tuple[int, int, int] | None  # the other set's image shape when it had to be brought to the models'

    def accuracy(self, model: str, which: str = "other") -> float:
        """Over all shared classes, each weighted by its images in the other set."""
        per_class = self.other[model] if which == "other" else self.own[model]
        return float((per_class * self.images).sum() / self.images.sum())

    def as_data(self) -> dict:
        return {
            "trained_on": self.trained_on,
            "read": self.read,
            "class_names": list(self.class_names),
            "images": self.images.tolist(),
            "accuracy": {name: self.accuracy(name) for name in self.other},
            "own_accuracy": {name: self.accuracy(name, "own") for name in self.own},
            "per_class_accuracy": {name: values.tolist() for name, values in self.other.items()},
            "own_per_class_accuracy": {name: values.tolist() for name, values in self.own.items()},
            "resized_from": list(self.resized_from) if self.resized_from else None,
        }


def as_models_see(images: torch.Tensor, shape: tuple[int, int, int]) -> torch.Tensor:
    """uint8 images of another set brought to the models' input ``shape``: grey from colour (luminance) or colour
    from grey (repeated), and the models' size (antialiased); (N, H, W) for grey, (N, C, H, W) for colour."""
    x = (images.unsqueeze(1) if images.ndim == 3 else images).float()
    if x.shape[1] == 3 and shape[0] == 1:
        x = (x * torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)).sum(1, keepdim=True)
    elif x.shape[1] == 1 and shape[0] == 3:
        x = x.repeat(1, 3, 1, 1)
    if tuple(x.shape[2:]) != shape[1:]:
        x = F.interpolate(x, size=shape[1:], mode="bilinear", antialias=True, align_corners=False)
    x = x.round().clamp(0, 255).to(torch.uint8)
    return x[:, 0] if shape[0] == 1 else x


def cross_reading(
    contenders: Mapping[str, Contender], own: Dataset, own_scores: PairScores, other: Dataset
) -> CrossReading:
    """The models (trained on ``own``) reading ``other``'s test images of the classes both name alike."""
    shared = [name for name in own.info.class_names if name in other.info.class_names]
    if not shared:
        raise ConfigError(
            f"dataset: {other.info.title} names none of these models' classes ({', '.join(own.info.class_names[:10])}"
            f"{', ...' if len(own.info.class_names) > 10 else ''}); pick a dataset with the same classes",
            "dataset",
        )
    to_own = torch.full((other.info.num_classes,), -1, dtype=torch.int64)
    for name in shared:
        to_own[other.info.class_names.index(name)] = own.info.class_names.index(name)
    labels = to_own[other.test_labels]
    keep = torch.nonzero(labels >= 0).flatten()[:MAX_IMAGES]
    images, labels = other.test_images[keep], labels[keep].numpy()
    shape = own.image_shape
    theirs = tuple(images.shape[1:]) if images.ndim == 4 else (1, *images.shape[1:])
    resized_from = theirs if theirs != shape else None
    if resized_from:
        images = as_models_see(images, shape)
    guesses = {name: [] for name in contenders}
    for start in range(0, len(labels), PREDICT_BATCH):
        batch = predict_images(contenders, images[start : start + PREDICT_BATCH], own.info)
        for name, probs in batch.items():
            guesses[name].append(probs.argmax(1))
    classes = np.array([own.info.class_names.index(name) for name in shared])
    counts = np.array([(labels == k).sum() for k in classes])
    other_rates, own_rates = {}, {}
    for name, parts in guesses.items():
        right = np.concatenate(parts) == labels
        other_rates[name] = np.array([right[labels == k].mean() if (labels == k).any() else np.nan for k in classes])
        own_rates[name] = own_scores.per_class_accuracy(name)[classes]
    keep_classes = counts > 0
    return CrossReading(
        own.info.title,
        other.info.title,
        tuple(np.array(shared)[keep_classes]),
        counts[keep_classes],
        {name: rates[keep_classes] for name, rates in other_rates.items()},
        {name: rates[keep_classes] for name, rates in own_rates.items()},
        resized_from,
    )
