"""Quick, Draw! sketches drawn again on the page's sketchpad, as a person draws them there.

Google's 28x28 bitmaps fill their frame with strokes about 2.3 px wide. A
person on the page draws the same lines on a 280x280 canvas at any size and
place, with the sketchpad's fixed brush (14 px). ``on_canvas`` redraws a
bitmap so: enlarged to a random size, put at a random place, its strokes
thinned (eroded) or thickened to the brush's width, dark ink on white, as
gr.Sketchpad(image_mode="L") hands a drawing over.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

CANVAS = 280
BRUSH_PX = 14  # the sketchpad's default brush (cnn_lab/ui/train/results.py)
BITMAP_STROKE_PX = 2.3  # Google's bitmaps (measured: cnn_lab.data.framing on quickdraw7.npz)


def on_canvas(bitmap: np.ndarray, rng: np.random.Generator, brush: float = BRUSH_PX) -> np.ndarray:
    """One 28x28 white-on-black bitmap as a 280x280 dark-on-white canvas drawing (random size 40-95 % of the canvas,
    random place, strokes of about ``brush`` px)."""
    side = int(rng.uniform(0.40, 0.95) * CANVAS)
    big = F.interpolate(torch.from_numpy(bitmap.astype(np.float32))[None, None], size=(side, side), mode="bilinear")
    ink = (big > 110).float()
    radius = int(round((BITMAP_STROKE_PX * side / 28 - brush) / 2))
    if radius > 0:  # a big drawing's strokes are wider than the pen: thin them to it
        ink = -F.max_pool2d(-ink, 2 * radius + 1, 1, radius)
    elif radius < 0:
        ink = F.max_pool2d(ink, -2 * radius + 1, 1, -radius)
    canvas = np.full((CANVAS, CANVAS), 255, np.uint8)
    top, left = rng.integers(0, CANVAS - side + 1, size=2)
    canvas[top : top + side, left : left + side] = np.where(ink[0, 0].numpy() > 0.5, 0, 255)
    return canvas


# A house as a person draws one with the mouse on the 280x280 pad, off-centre and smaller than the pad: walls, a
# roof, a door (strokes in canvas pixels, in drawing order).
HOUSE_STROKES = [
    [(60, 120), (60, 230), (190, 230), (190, 120), (60, 120)],
    [(50, 125), (125, 55), (200, 125)],
    [(110, 230), (110, 180), (140, 180), (140, 230)],
]


def render_strokes(strokes: list[list[tuple[int, int]]], brush: int = BRUSH_PX) -> np.ndarray:
    """Strokes drawn with a round brush of ``brush`` px on a white 280x280 canvas, as the sketchpad hands them over."""
    from PIL import Image, ImageDraw

    image = Image.new("L", (CANVAS, CANVAS), 255)
    draw, r = ImageDraw.Draw(image), brush / 2
    for points in strokes:
        draw.line(points, fill=0, width=brush)
        for x, y in points:
            draw.ellipse((x - r, y - r, x + r, y + r), fill=0)
    return np.asarray(image)
