"""How both models' accuracy falls as the test images are shifted, rotated, scaled, blurred, noised or occluded.

A convolution looks for the same pattern everywhere, and pooling forgets a
little of where: a CNN keeps reading a digit moved by a few pixels, while an
MLP, whose every weight belongs to one pixel, loses it. The same images, the
same random changes for both models at every level, so the gap between the
curves is the models'.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from cnn_lab.data.datasets import Dataset
from cnn_lab.engine.contenders import Contender
from cnn_lab.engine.training import test_part
from cnn_lab.inspect.inference import predict_images

ROBUSTNESS_IMAGES = 600  # class-balanced test images (60 a class on MNIST): a standard error of 2 points at most
# Each transform's strengths, the first leaving the images as they are; units in TRANSFORM_UNITS.
TRANSFORM_LEVELS: dict[str, tuple[float, ...]] = {
    "shift": (0, 1, 2, 3, 4, 6, 8),
    "rotate": (0, 7.5, 15, 22.5, 30, 37.5, 45),
    "scale": (1.0, 0.9, 0.8, 0.7, 0.6, 0.5),
    "blur": (0, 0.5, 1.0, 1.5, 2.0, 2.5),
    "noise": (0, 0.1, 0.2, 0.3, 0.4, 0.5),
    "occlude": (0, 4, 6, 8, 10, 12),
}
TRANSFORM_UNITS = {
    "shift": "px in a random direction",
    "rotate": "degrees, either way",
    "scale": "times the size",
    "blur": "px (Gaussian sigma)",
    "noise": "std of Gaussian noise (pixels 0-1)",
    "occlude": "px square hidden at a random place",
}


@dataclass(frozen=True)
class Robustness:
    """Accuracy per transform, level and model, on the same test images."""

    images: int
    levels: dict[str, tuple[float, ...]]
    accuracy: dict[str, dict[str, list[float]]]  # transform -> model -> one accuracy per level

    def at(self, kind: str, level: float, model: str) -> float:
        return self.accuracy[kind][model][self.levels[kind].index(level)]

    def as_data(self) -> dict:
        return {
            "images": self.images,
            "levels": {k: list(v) for k, v in self.levels.items()},
            "units": {k: TRANSFORM_UNITS[k] for k in self.levels},
            "accuracy": self.accuracy,
        }


def transformed(images: torch.Tensor, kind: str, level: float, seed: int) -> torch.Tensor:
    """uint8 (N, C, H, W) images changed by one transform at one strength; the same seed gives the same changes."""
    if level == TRANSFORM_LEVELS[kind][0]:
        return images
    generator = torch.Generator().manual_seed(seed)
    x = images.float()
    n, _, height, width = x.shape
    if kind in ("shift", "rotate", "scale"):
        angle = torch.zeros(n)
        scale = torch.ones(n)
        shift = torch.zeros(n, 2)
        if kind == "shift":  # level px in a random direction, in affine_grid's units (half the image is 1)
            direction = torch.rand(n, generator=generator) * 2 * math.pi
            shift = torch.stack([direction.cos() * 2 * level / width, direction.sin() * 2 * level / height], 1)
        elif kind == "rotate":
            sign = torch.randint(0, 2, (n,), generator=generator) * 2 - 1
            angle = sign * math.radians(level)
        else:
            scale = torch.full((n,), float(level))
        cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
        theta = torch.stack([torch.stack([cos, -sin, -shift[:, 0]], 1), torch.stack([sin, cos, -shift[:, 1]], 1)], 1)
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        x = F.grid_sample(x, grid, align_corners=False, padding_mode="zeros")
    elif kind == "blur":
        # imported here: torchvision's import pulls in its models, ops and torch._dynamo (2.3 s of every server
        # start and training worker on 2 cores) for this one filter
        from torchvision.transforms.functional import gaussian_blur

        size = 2 * math.ceil(3 * level) + 1
        x = gaussian_blur(x, [size, size], [level, level])
    elif kind == "noise":
        x = x + torch.randn(x.shape, generator=generator) * level * 255
    elif kind == "occlude":
        side = min(int(level), height, width)  # small uploads (8 px a side) are hidden whole at most
        top = torch.randint(0, height - side + 1, (n,), generator=generator)
        left = torch.randint(0, width - side + 1, (n,), generator=generator)
        rows, cols = torch.arange(height), torch.arange(width)
        inside = ((rows[None, :] >= top[:, None]) & (rows[None, :] < top[:, None] + side))[:, :, None] & (
            (cols[None, :] >= left[:, None]) & (cols[None, :] < left[:, None] + side)
        )[:, None, :]
        x = x.masked_fill(inside[:, None], 0.0)
    else:
        raise ValueError(f"unknown transform {kind!r}")
    return x.round().clamp(0, 255).to(torch.uint8)


def robustness_curves(
    contenders: Mapping[str, Contender], data: Dataset, images: int = ROBUSTNESS_IMAGES, seed: int = 0
) -> Robustness:
    """Both models' accuracy on ``images`` class-balanced test images under every transform and level."""
    index = test_part(data.test_labels, images, seed)
    x = data.test_images[index]
    grey = x.ndim == 3
    x = x.unsqueeze(1) if grey else x
    labels = data.test_labels[index].numpy()
    accuracy: dict[str, dict[str, list[float]]] = {}
    for kind, levels in TRANSFORM_LEVELS.items():
        accuracy[kind] = {name: [] for name in contenders}
        for step, level in enumerate(levels):
            changed = transformed(x, kind, level, seed * 1000 + step)
            probs = predict_images(contenders, changed[:, 0] if grey else changed, data.info)
            for name, p in probs.items():
                accuracy[kind][name].append(round(float((p.argmax(1) == labels).mean()), 4))
    return Robustness(len(index), dict(TRANSFORM_LEVELS), accuracy)


def robustness_words(robustness: Robustness, convolutional: Mapping[str, bool]) -> str:
    """What the curves say, from their numbers: each model's accuracy at a middle strength of each transform, and
    where a CNN stands against an MLP when the pair is one of each."""
    names = list(next(iter(robustness.accuracy.values())))
    parts = []
    for kind, levels in robustness.levels.items():
        middle = levels[len(levels) // 2]
        held = ", ".join(f"{name} {robustness.at(kind, middle, name):.0%}" for name in names)
        parts.append(f"{kind} {middle:g} {TRANSFORM_UNITS[kind].split(' (')[0]}: {held}")
    text = (
        f"On {robustness.images:,} test images, accuracy at a middle strength of each change (plain: "
        + ", ".join(f"{n} {robustness.at('shift', 0, n):.0%}" for n in names)
        + "): "
        + "; ".join(parts)
        + "."
    )
    cnns = [n for n in names if convolutional.get(n)]
    mlps = [n for n in names if not convolutional.get(n)]
    if cnns and mlps:
        cnn, mlp = cnns[0], mlps[0]
        lead = np.mean(robustness.accuracy["shift"][cnn][1:]) - np.mean(robustness.accuracy["shift"][mlp][1:])
        verb = "holds" if lead > 0 else "does not hold"
        text += (
            f" Shifted images are where a CNN beats an MLP at first sight: model {cnn} (convolutions) {verb} up "
            f"better than model {mlp} (no convolutions), {abs(lead) * 100:.0f} points {'above' if lead > 0 else 'below'}"
            " it on average over the shifts."
        )
    return text
