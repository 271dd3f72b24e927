"""From a drawing to what MNIST digits look like, and from there to class probabilities.

MNIST digits are white on black, their longer side about 20 px, centred by
centre of mass in 28x28. A sketch that is only resized looks nothing like
that (thin strokes vanish, off-centre digits fall off the receptive field),
so we redo MNIST's own preprocessing on the sketch.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .data import DatasetInfo
from .training import Contender, prepare_batch

INK_THRESHOLD = 40  # of 255: fainter marks (anti-aliasing, paper grain) are background
DIGIT_BOX = 20
CANVAS = 28


def to_grayscale(image: np.ndarray) -> np.ndarray:
    """(H, W), (H, W, 3) or (H, W, 4) -> (H, W) uint8 with dark ink on white; transparent pixels count as white."""
    image = np.asarray(image)
    if image.ndim == 3:
        rgb = image[..., :3].astype(np.float32)
        gray = rgb @ np.array([0.299, 0.587, 0.114], dtype=np.float32) if image.shape[2] >= 3 else rgb[..., 0]
        if image.shape[2] == 4:
            alpha = image[..., 3].astype(np.float32) / 255
            gray = gray * alpha + 255 * (1 - alpha)
        image = gray
    if image.dtype != np.uint8:
        image = np.clip(image, 0, 255).astype(np.uint8)
    return image


def sketch_to_mnist(sketch: np.ndarray | None) -> np.ndarray | None:
    """Dark-on-white drawing of any size -> 28x28 uint8 white-on-black, MNIST-style; None when nothing is drawn."""
    if sketch is None:
        return None
    ink = 255 - to_grayscale(sketch).astype(np.float32)
    rows, cols = np.nonzero(ink > INK_THRESHOLD)
    if rows.size == 0:
        return None
    crop = ink[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    h, w = crop.shape
    scale = DIGIT_BOX / max(h, w)
    size = (max(1, round(h * scale)), max(1, round(w * scale)))
    small = F.interpolate(torch.from_numpy(crop)[None, None], size=size, mode="bilinear", antialias=True, align_corners=False)[0, 0]
    small = small * (255.0 / max(float(small.max()), 1.0))  # thin strokes fade when shrunk: restore full ink
    small = small.clamp(0, 255).numpy()

    total = small.sum()
    cy = (small.sum(1) * np.arange(size[0])).sum() / total
    cx = (small.sum(0) * np.arange(size[1])).sum() / total
    top = int(np.clip(round(CANVAS / 2 - 0.5 - cy), 0, CANVAS - size[0]))
    left = int(np.clip(round(CANVAS / 2 - 0.5 - cx), 0, CANVAS - size[1]))
    out = np.zeros((CANVAS, CANVAS), dtype=np.float32)
    out[top : top + size[0], left : left + size[1]] = small
    return out.round().astype(np.uint8)


@torch.inference_mode()
def predict(models: Mapping[str, nn.Module], x: torch.Tensor) -> dict[str, np.ndarray]:
    """Class probabilities of each model for a batch x (on the CPU); returns (B, classes) arrays."""
    out = {}
    for name, module in models.items():
        device = next(module.parameters()).device
        was_training = module.training
        module.eval()
        logits = module(x.to(device).contiguous(memory_format=torch.channels_last)).float()
        module.train(was_training)
        out[name] = torch.softmax(logits, dim=1).cpu().numpy()
    return out


def predict_images(contenders: Mapping[str, Contender], images: torch.Tensor, info: DatasetInfo) -> dict[str, np.ndarray]:
    """Class probabilities of each model for uint8 (B, H, W) images, each normalised the way that model was trained."""
    return {name: predict({name: c.module}, prepare_batch(images, *c.normalization(info)))[name] for name, c in contenders.items()}
