"""How a dataset's drawings sit in their images, measured, so the sketchpad can frame a drawing the same way.

MNIST's digits have their longer side in a 20 px box and are centred by
centre of mass; Google's Quick, Draw! bitmaps fill 26 of 28 px and are
centred by their bounding box, with strokes of about 2 px. A drawing framed
like the training images is read far better than one that is only resized,
so every drawable dataset carries its framing, measured from its own
training images.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

INK_THRESHOLD = 40  # of 255: fainter marks (anti-aliasing, paper grain) are background
MEASURED_IMAGES = 2000  # enough for stable medians; a few milliseconds a hundred images


@dataclass(frozen=True)
class Framing:
    """Where the ink of a typical training image lies: the longer side of its box, its stroke width (both in
    pixels of the image) and how it is centred ("mass": by centre of mass, as MNIST; "box": by its bounding box)."""

    box: float
    stroke: float
    centre: str = "mass"

    @property
    def stroke_share(self) -> float:
        """The stroke width as a share of the box: what a drawing's pen is brought to before it is shrunk."""
        return self.stroke / self.box


# MNIST's median stroke is 2.8 px in its 20 px box (2 x ink area / boundary pixels over 5,000 training digits);
# measure_framing on its training split agrees (tests/data/test_framing.py).
MNIST_FRAMING = Framing(box=20.0, stroke=2.8, centre="mass")


def stroke_width(ink: np.ndarray) -> float:
    """Typical stroke width in pixels: 2 x inked area / boundary pixels (a stroke of width w and length L has area wL, boundary 2L)."""
    inked = ink > 127
    padded = np.pad(inked, 1)
    inner = padded[1:-1, 1:-1] & padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:]
    return 2 * inked.sum() / max(int((inked & ~inner).sum()), 1)


def ink_box(ink: np.ndarray) -> tuple[int, int, int, int] | None:
    """(top, bottom, left, right) of the marks brighter than the threshold, inclusive; None on a blank image."""
    rows, cols = np.nonzero(ink > INK_THRESHOLD)
    if rows.size == 0:
        return None
    return int(rows.min()), int(rows.max()), int(cols.min()), int(cols.max())


def centre_of_mass(ink: np.ndarray) -> tuple[float, float]:
    """(row, column) of the ink's centre of mass, in pixels."""
    total = ink.sum()
    return (
        float((ink.sum(1) * np.arange(ink.shape[0])).sum() / total),
        float((ink.sum(0) * np.arange(ink.shape[1])).sum() / total),
    )


def measure_framing(images: torch.Tensor | np.ndarray) -> Framing:
    """The framing of grey (N, H, W) uint8 images with light marks on dark: medians over the first images."""
    sample = np.asarray(images[:MEASURED_IMAGES], dtype=np.float32)
    sides, strokes, off_mass, off_box = [], [], [], []
    for image in sample:
        box = ink_box(image)
        if box is None:
            continue
        top, bottom, left, right = box
        sides.append(max(bottom - top, right - left) + 1)
        strokes.append(stroke_width(image))
        centre = ((image.shape[0] - 1) / 2, (image.shape[1] - 1) / 2)
        mass = centre_of_mass(image)
        off_mass.append(np.hypot(mass[0] - centre[0], mass[1] - centre[1]))
        off_box.append(np.hypot((top + bottom) / 2 - centre[0], (left + right) / 2 - centre[1]))
    if not sides:
        return MNIST_FRAMING
    return Framing(
        box=round(float(np.median(sides)), 1),
        stroke=round(float(np.median(strokes)), 2),
        centre="mass" if np.median(off_mass) <= np.median(off_box) else "box",
    )
