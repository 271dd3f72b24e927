"""Both models on the whole test set: confusion matrices, the pairs they confuse, and where they disagree.

Plain numpy on predictions made once per trained pair; the Inspect tab and
the ``inspect_test_set`` endpoint read the same object.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from cnn_lab.data.datasets import Dataset
from cnn_lab.engine.contenders import Contender
from cnn_lab.inspect.inference import predict_images

PREDICT_BATCH = 1000  # test images per forward pass: activations of 10,000 at once would take half a GB
SURE = 0.9  # "wrong with high confidence": at least this sure of the wrong class
CALIBRATION_BINS = 10


@dataclass(frozen=True)
class Calibration:
    """How sure a model is against how often it is right, in equal-width bins of its confidence."""

    confidence: np.ndarray  # (bins,) mean confidence of the test images in each bin (nan where a bin is empty)
    accuracy: np.ndarray  # (bins,) share of them it reads right (nan where empty)
    counts: np.ndarray  # (bins,) test images per bin
    error: float  # expected calibration error: the count-weighted mean gap between the two, 0 to 1

    def as_data(self) -> dict:
        return {
            "expected_calibration_error": self.error,
            "bins": [
                {"images": int(n), "confidence": float(c), "accuracy": float(a)}
                for n, c, a in zip(self.counts, self.confidence, self.accuracy, strict=True)
                if n
            ],
        }


@dataclass(frozen=True)
class PairScores:
    """Each model's guess and confidence for every test image, and what follows from them."""

    labels: np.ndarray  # (N,) true classes
    guesses: dict[str, np.ndarray]  # model -> (N,) predicted classes
    confidences: dict[str, np.ndarray]  # model -> (N,) probability of the predicted class
    class_names: tuple[str, ...]

    @property
    def size(self) -> int:
        return len(self.labels)

    def confusion(self, model: str) -> np.ndarray:
        """(classes, classes) counts: row = true class, column = the model's guess."""
        k = len(self.class_names)
        return np.bincount(self.labels * k + self.guesses[model], minlength=k * k).reshape(k, k)

    def per_class_accuracy(self, model: str) -> np.ndarray:
        matrix = self.confusion(model)
        return np.diag(matrix) / np.maximum(matrix.sum(axis=1), 1)

    def accuracy(self, model: str) -> float:
        return float((self.guesses[model] == self.labels).mean())

    def cell(self, model: str, truth: int, guess: int) -> np.ndarray:
        """Indices of the test images of class ``truth`` that ``model`` read as ``guess``."""
        return np.flatnonzero((self.labels == truth) & (self.guesses[model] == guess))

    def confused_pairs(self, top: int = 5) -> list[str]:
        """The mistakes made most often by either model, in words, both models' counts side by side."""
        a, b = (self.confusion(name) for name in self.guesses)
        names = list(self.guesses)
        worst = np.maximum(a, b)
        np.fill_diagonal(worst, 0)
        order = np.argsort(worst, axis=None)[::-1][:top]
        lines = []
        for truth, guess in zip(*np.unravel_index(order, worst.shape), strict=True):
            if worst[truth, guess] == 0:
                break
            counts = {names[0]: int(a[truth, guess]), names[1]: int(b[truth, guess])}
            first, second = sorted(counts, key=counts.get, reverse=True)
            what = f"{self.class_names[truth]} as {self.class_names[guess]}"
            images = "test image" if counts[first] == 1 else "test images"
            lines.append(f"{first} reads {what} on {counts[first]} {images}, {second} on {counts[second]}")
        return lines

    def calibration(self, model: str, bins: int = CALIBRATION_BINS) -> Calibration:
        """``model``'s reliability: for test images it is 90-100 % sure of, is it right 90-100 % of the time?"""
        confidence = self.confidences[model]
        right = (self.guesses[model] == self.labels).astype(np.float64)
        which = np.minimum((confidence * bins).astype(np.int64), bins - 1)
        counts = np.bincount(which, minlength=bins)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_confidence = np.bincount(which, confidence, minlength=bins) / counts
            accuracy = np.bincount(which, right, minlength=bins) / counts
        gaps = np.nan_to_num(np.abs(accuracy - mean_confidence))
        return Calibration(mean_confidence, accuracy, counts, float((counts * gaps).sum() / counts.sum()))

    def disagreements(self) -> dict[str, np.ndarray]:
        """Test images one model gets right and the other wrong, and those both get wrong while sure of it."""
        a, b = self.guesses
        right = {name: self.guesses[name] == self.labels for name in self.guesses}
        sure_wrong = ~right[a] & ~right[b] & (self.confidences[a] >= SURE) & (self.confidences[b] >= SURE)
        return {
            f"{a} right, {b} wrong": np.flatnonzero(right[a] & ~right[b]),
            f"{b} right, {a} wrong": np.flatnonzero(right[b] & ~right[a]),
            "both wrong and sure": np.flatnonzero(sure_wrong),
        }

    def as_data(self) -> dict:
        """Plain data for programs: matrices, per-class accuracies, disagreement counts and the confused pairs."""
        return {
            "class_names": list(self.class_names),
            "test_images": self.size,
            "accuracy": {name: self.accuracy(name) for name in self.guesses},
            "confusion": {name: self.confusion(name).tolist() for name in self.guesses},
            "per_class_accuracy": {name: self.per_class_accuracy(name).tolist() for name in self.guesses},
            "disagreements": {kind: len(index) for kind, index in self.disagreements().items()},
            "confused_pairs": self.confused_pairs(),
            "calibration": {name: self.calibration(name).as_data() for name in self.guesses},
        }


def score_on_test_set(contenders: Mapping[str, Contender], data: Dataset) -> PairScores:
    """Both models' guesses for every test image, each fed the way it was trained."""
    probabilities = {name: [] for name in contenders}
    for start in range(0, len(data.test_labels), PREDICT_BATCH):
        batch = predict_images(contenders, data.test_images[start : start + PREDICT_BATCH], data.info)
        for name, probs in batch.items():
            probabilities[name].append(probs)
    stacked = {name: np.concatenate(parts) for name, parts in probabilities.items()}
    return PairScores(
        data.test_labels.numpy().astype(np.int64),
        {name: probs.argmax(axis=1) for name, probs in stacked.items()},
        {name: probs.max(axis=1) for name, probs in stacked.items()},
        data.info.class_names,
    )
