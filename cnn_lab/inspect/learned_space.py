"""The space each model learnt: its last hidden features of the same test images, projected to two dimensions.

The classifier at the end of a network is one linear layer: it can only
separate classes the layers before it have pulled apart. Projecting the
features that reach it (PCA at once; t-SNE from openTSNE when asked) shows
how far apart each model put the classes, which ones it left mixed, and
where its mistakes lie. Both models get the same images and the same method,
so the difference between the two maps is the models'.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from cnn_lab.core.errors import ConfigError, quoted
from cnn_lab.data.datasets import Dataset
from cnn_lab.engine.contenders import Contender
from cnn_lab.engine.training import prepare_batch, test_part

SPACE_IMAGES = 800  # class-balanced test images on each map: enough to see the classes, light enough to hover
METHODS = ("pca", "tsne")
METHOD_TITLES = {"pca": "PCA", "tsne": "t-SNE"}


@dataclass(frozen=True)
class LearnedSpace:
    """Per model, every image's 2-D point, its guess, and the latest drawing's point (None: nothing drawn)."""

    method: str
    index: np.ndarray  # the test images' positions in the test split
    labels: np.ndarray
    points: dict[str, np.ndarray]  # (N, 2)
    guesses: dict[str, np.ndarray]
    drawing: dict[str, np.ndarray | None]
    explained: dict[str, float | None]  # PCA: the share of the features' variance the two axes keep

    def as_data(self) -> dict:
        return {
            "method": self.method,
            "test_index": self.index.tolist(),
            "labels": self.labels.tolist(),
            "points": {name: np.round(p, 4).tolist() for name, p in self.points.items()},
            "guesses": {name: g.tolist() for name, g in self.guesses.items()},
            "drawing": {name: None if p is None else np.round(p, 4).tolist() for name, p in self.drawing.items()},
            "explained_variance": self.explained,
        }


def penultimate(contender: Contender, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The features that reach the model's last linear layer (its classifier) for a normalised batch x, and the
    logits it makes of them: one forward pass."""
    module = contender.module
    last = [m for m in module.modules() if isinstance(m, nn.Linear)][-1]
    caught: list[torch.Tensor] = []
    hook = last.register_forward_hook(lambda m, args, out: caught.append(args[0].detach().float().flatten(1)))
    was_training = module.training
    module.eval()
    try:
        with torch.inference_mode():
            logits = module(x.to(next(module.parameters()).device))
    finally:
        hook.remove()
        module.train(was_training)
    return caught[0].cpu(), logits.float().cpu()


def features(
    contender: Contender, images: torch.Tensor, data: Dataset, batch: int = 500
) -> tuple[np.ndarray, np.ndarray]:
    """uint8 images -> (N, F) penultimate features and (N,) guesses, each model fed the way it was trained."""
    mean, std = contender.normalization(data.info)
    parts = [
        penultimate(contender, prepare_batch(images[i : i + batch], mean, std)) for i in range(0, len(images), batch)
    ]
    return torch.cat([f for f, _ in parts]).numpy(), torch.cat([g for _, g in parts]).argmax(1).numpy()


class Projection:
    """A 2-D projection fitted on one model's features, able to place a new point (the drawing) on the same map."""

    def __init__(self, method: str, found: np.ndarray, seed: int):
        self.method = method
        self.explained: float | None = None
        if method == "pca":
            self.mean = found.mean(0)
            _, singular, vt = np.linalg.svd(found - self.mean, full_matrices=False)
            signs = np.sign(vt[:2][np.arange(2), np.abs(vt[:2]).argmax(1)])  # a fixed orientation, run to run
            self.components = vt[:2] * signs[:, None]
            total = float((singular**2).sum())
            self.explained = round(float((singular[:2] ** 2).sum()) / total, 4) if total else None
            self.points = (found - self.mean) @ self.components.T
        else:
            from openTSNE import TSNE  # numba-free, pip-installable; imported only when asked

            self.embedding = TSNE(n_components=2, perplexity=30, random_state=seed, n_jobs=1, verbose=False).fit(found)
            self.points = np.asarray(self.embedding)

    def place(self, more: np.ndarray) -> np.ndarray:
        if self.method == "pca":
            return (more - self.mean) @ self.components.T
        return np.asarray(self.embedding.transform(more))


def learned_space(
    contenders: Mapping[str, Contender],
    data: Dataset,
    method: str = "pca",
    drawing: np.ndarray | None = None,
    images: int = SPACE_IMAGES,
    seed: int = 0,
) -> LearnedSpace:
    """Both models' maps of the same class-balanced test images; ``drawing`` (uint8, as the models see it) is placed
    on both."""
    if method not in METHODS:
        raise ConfigError(f"method must be one of {', '.join(METHODS)}, got {quoted(method)}", "method")
    index = test_part(data.test_labels, images, seed).numpy()
    x = data.test_images[torch.from_numpy(index)]
    labels = data.test_labels[torch.from_numpy(index)].numpy()
    points, guesses, placed, explained = {}, {}, {}, {}
    for name, contender in contenders.items():
        found, guesses[name] = features(contender, x, data)
        projection = Projection(method, found, seed)
        points[name] = projection.points
        explained[name] = projection.explained
        if drawing is None:
            placed[name] = None
        else:
            placed[name] = projection.place(features(contender, torch.from_numpy(drawing)[None], data)[0])[0]
    return LearnedSpace(method, index, labels, points, guesses, placed, explained)
