"""Whole-batch augmentation on tensors: small rotations, shifts, zooms and stroke-width changes.

It makes a model read digits the way people draw them (off-centre, tilted,
thick or thin pen) and costs one affine_grid/grid_sample per batch, so the
trainer stays fast.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

MAX_ROTATION_DEG = 12.0
MAX_SCALE_CHANGE = 0.12
MAX_SHIFT = 0.12  # fraction of half the image, about 1.7 px on 28x28


def augment_batch(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Randomly transform a batch of (B, 1, H, W) images with ink > 0 on a 0 background."""
    batch = images.shape[0]

    def uniform(limit: float) -> torch.Tensor:
        return (torch.rand(batch, generator=generator) * 2 - 1) * limit

    angle = uniform(math.radians(MAX_ROTATION_DEG))
    scale = 1 + uniform(MAX_SCALE_CHANGE)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack(
        [torch.stack([cos, -sin, uniform(MAX_SHIFT)], 1), torch.stack([sin, cos, uniform(MAX_SHIFT)], 1)], 1
    ).to(images.device, images.dtype)
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    moved = F.grid_sample(images, grid, align_corners=False, padding_mode="zeros")
    thicker = F.max_pool2d(moved, 3, 1, 1)
    thinner = (moved - F.max_pool2d(-moved, 3, 1, 1)) / 2  # halfway to an eroded stroke
    pen = torch.randint(0, 4, (batch, 1, 1, 1), generator=generator).to(images.device)
    return torch.where(pen == 1, thicker, torch.where(pen == 2, thinner, moved))
