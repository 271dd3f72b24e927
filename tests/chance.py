"""How many right answers a model of known accuracy gives at the least, by chance, on a few random images."""

from __future__ import annotations

import math


def fewest_right(images: int, accuracy: float, chance: float = 1e-4) -> int:
    """The fewest right answers among ``images`` random test images of a model with this test accuracy that a draw
    gives with probability at least ``chance`` (binomial lower tail)."""
    tail = 0.0
    for k in range(images + 1):
        tail += math.comb(images, k) * accuracy**k * (1 - accuracy) ** (images - k)
        if tail >= chance:
            return k
    return images
