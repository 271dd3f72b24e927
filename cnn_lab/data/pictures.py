"""Pictures a learner can read, as RGB uint8 arrays: an attribution over its digit, a layer's feature maps as a grid,
a layer's filters in a diverging colour map. Plain numpy; the page shows them as images."""

from __future__ import annotations

import base64
import io
import math

import numpy as np
from matplotlib import colormaps
from PIL import Image

GAP = 2  # pixels between tiles
HEAT, DIVERGING = colormaps["inferno"], colormaps["RdBu_r"]


def displayable(image: np.ndarray) -> np.ndarray:
    """A model's uint8 input as a picture library takes it: grey (H, W) as it is, colour (C, H, W) as (H, W, C)."""
    if image.ndim == 3:
        return image[0] if image.shape[0] == 1 else np.ascontiguousarray(image.transpose(1, 2, 0))
    return image


def enlarge(image: np.ndarray, factor: int) -> np.ndarray:
    """Each pixel as a factor x factor block: small maps stay crisp instead of blurred."""
    return image.repeat(factor, axis=0).repeat(factor, axis=1)


def attribution_overlay(image: np.ndarray, attribution: np.ndarray, scale: int = 6) -> np.ndarray:
    """The image (uint8 as the model sees it: a white-on-black digit, or colour (C, H, W)) under its attribution:
    bright where it counted."""
    strength = np.clip(attribution, 0, 1)
    heat = HEAT(strength)[..., :3]
    ink = displayable(image).astype(np.float32) / 255
    ink = (ink if ink.ndim == 3 else ink[..., None]) * 0.45  # dimmed, so the heat stands out on it
    weight = np.minimum(1.0, 1.6 * strength)[..., None]
    picture = (1 - weight) * np.broadcast_to(ink, heat.shape) + weight * heat
    return enlarge((picture * 255).round().astype(np.uint8), scale)


def tile(tiles: np.ndarray, columns: int, background: float) -> np.ndarray:
    """(N, h, w, 3) floats in [0, 1] as one grid image, ``background`` between tiles."""
    count, h, w, _ = tiles.shape
    rows = math.ceil(count / columns)
    grid = np.full((rows * (h + GAP) - GAP, columns * (w + GAP) - GAP, 3), background, dtype=np.float32)
    for k in range(count):
        r, c = divmod(k, columns)
        grid[r * (h + GAP) : r * (h + GAP) + h, c * (w + GAP) : c * (w + GAP) + w] = tiles[k]
    return (grid * 255).round().astype(np.uint8)


def feature_map_grid(maps: np.ndarray, tile_px: int = 56) -> np.ndarray:
    """A conv layer's output (C, h, w) as a grid, each map scaled to its own range (dark low, bright high) so that
    a weak map's pattern shows as clearly as a strong one's; a flat map stays black."""
    low = maps.min(axis=(1, 2), keepdims=True)
    span = maps.max(axis=(1, 2), keepdims=True) - low
    scaled = np.where(span > 0, (maps - low) / np.where(span > 0, span, 1), 0.0)
    factor = max(1, tile_px // maps.shape[-1])
    tiles = np.stack([scaled.repeat(factor, axis=1).repeat(factor, axis=2)] * 3, axis=-1)
    return tile(tiles, columns=min(8, len(maps)), background=0.5)


def filter_grid(filters: np.ndarray, tile_px: int = 56, bound: float | None = None) -> np.ndarray:
    """Kernels (N, k, k) in one diverging scale shared by all: red positive, blue negative, white zero; ``bound`` (the
    largest magnitude shown fully red or blue) may be shared with other grids, so that they compare."""
    bound = bound or float(np.abs(filters).max()) or 1.0
    colored = DIVERGING(0.5 + filters / (2 * bound))[..., :3]
    factor = max(1, tile_px // filters.shape[-1])
    tiles = np.stack([enlarge(kernel, factor) for kernel in colored])
    return tile(tiles, columns=min(8, len(filters)), background=0.5)


def png_base64(image: np.ndarray) -> str:
    """An RGB or grey uint8 image as base64 PNG text: pictures a program gets back inside JSON."""
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")
