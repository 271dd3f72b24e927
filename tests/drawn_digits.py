"""Programmatically drawn digits 0-9 (dark ink on a white canvas, as drawn with a mouse),
used to check how well sketch preprocessing plus a trained MNIST model read real drawings."""

import math

import numpy as np
from PIL import Image, ImageDraw

Point = tuple[float, float]
Strokes = list[list[Point]]


def _arc(cx: float, cy: float, rx: float, ry: float, start: float, end: float, n: int) -> list[Point]:
    """Points along an ellipse arc; angles in degrees, 0 = right, 90 = down (y points down)."""
    ts = np.radians(np.linspace(start, end, n))
    return [(round(cx + rx * math.cos(t), 3), round(cy + ry * math.sin(t), 3)) for t in ts]


# Every way of drawing each digit; index 0 is the most common one. Unit box, x right, y down.
DIGIT_STROKE_VARIANTS: dict[int, list[Strokes]] = {
    0: [[_arc(0.5, 0.5, 0.28, 0.44, -80, -450, 22)]],
    1: [
        [[(0.36, 0.24), (0.56, 0.06), (0.55, 0.5), (0.54, 0.94)]],
        [[(0.56, 0.06), (0.5, 0.5), (0.46, 0.94)]],
    ],
    2: [[_arc(0.5, 0.3, 0.26, 0.24, -165, 40, 14) + [(0.22, 0.93), (0.82, 0.92)]]],
    3: [[_arc(0.48, 0.28, 0.24, 0.22, -155, 95, 14) + _arc(0.48, 0.71, 0.28, 0.23, -95, 155, 14)]],
    4: [
        [[(0.62, 0.05), (0.2, 0.64), (0.82, 0.64)], [(0.64, 0.34), (0.64, 0.95)]],
        [[(0.3, 0.05), (0.24, 0.58), (0.8, 0.58)], [(0.66, 0.18), (0.64, 0.95)]],
    ],
    5: [[[(0.31, 0.07), (0.27, 0.47)] + _arc(0.5, 0.69, 0.28, 0.25, -125, 160, 16), [(0.31, 0.07), (0.78, 0.07)]]],
    6: [[_arc(0.72, 0.66, 0.5, 0.6, -100, -180, 8) + _arc(0.5, 0.72, 0.27, 0.22, 180, -170, 16)]],
    7: [
        [[(0.2, 0.08), (0.8, 0.08), (0.42, 0.94)]],
        [[(0.2, 0.08), (0.8, 0.08), (0.42, 0.94)], [(0.38, 0.5), (0.72, 0.5)]],
    ],
    8: [
        [
            _arc(0.5, 0.28, 0.2, 0.21, -30, -240, 12)
            + _arc(0.5, 0.71, 0.26, 0.23, -60, 240, 16)
            + _arc(0.5, 0.28, 0.2, 0.21, 60, -30, 5)
        ]
    ],
    9: [
        [_arc(0.5, 0.3, 0.24, 0.23, 10, -360, 20) + [(0.73, 0.6), (0.68, 0.95)]],
        [_arc(0.5, 0.3, 0.24, 0.23, 10, -360, 20), [(0.74, 0.1), (0.74, 0.95)]],
    ],
}
DIGIT_STROKES: dict[int, Strokes] = {d: v[0] for d, v in DIGIT_STROKE_VARIANTS.items()}


def stroke_points(
    digit: int,
    canvas: int = 280,
    scale: float = 0.7,
    offset: tuple[float, float] = (0.0, 0.0),
    angle_deg: float = 0.0,
    variant: int = 0,
) -> list[list[tuple[int, int]]]:
    """The digit's strokes in canvas pixels: unit box scaled to scale*canvas about the centre,
    rotated counter-clockwise by angle_deg, shifted by offset (fractions of the canvas)."""
    size, centre = scale * canvas, canvas / 2
    cos, sin = math.cos(math.radians(angle_deg)), math.sin(math.radians(angle_deg))
    out = []
    for stroke in DIGIT_STROKE_VARIANTS[digit][variant]:
        pts = []
        for x, y in stroke:
            dx, dy = (x - 0.5) * size, (y - 0.5) * size
            px = centre + dx * cos + dy * sin + offset[0] * canvas
            py = centre - dx * sin + dy * cos + offset[1] * canvas
            pts.append((min(max(round(px), 0), canvas - 1), min(max(round(py), 0), canvas - 1)))
        out.append(pts)
    return out


def render_digit(
    digit: int,
    canvas: int = 280,
    thickness: int = 12,
    scale: float = 0.7,
    offset: tuple[float, float] = (0.0, 0.0),
    angle_deg: float = 0.0,
    variant: int = 0,
) -> np.ndarray:
    """A (canvas, canvas) uint8 image: 255 background, 0 ink, round joints and caps."""
    img = Image.new("L", (canvas, canvas), 255)
    draw = ImageDraw.Draw(img)
    r = thickness / 2
    for pts in stroke_points(digit, canvas, scale, offset, angle_deg, variant):
        draw.line(pts, fill=0, width=thickness)
        for x, y in pts:
            draw.ellipse((x - r, y - r, x + r, y + r), fill=0)
    return np.asarray(img)


_OFFSETS = [
    (0.22, -0.2),
    (-0.24, 0.18),
    (0.18, 0.22),
    (-0.2, -0.23),
    (0.25, 0.05),
    (-0.05, 0.25),
    (-0.25, -0.05),
    (0.1, -0.25),
    (0.23, 0.2),
    (-0.18, 0.1),
]


def drawing_set() -> list[tuple[np.ndarray, int, str]]:
    """A fixed set of drawings of every digit, thin/thick, tiny/large, off-centre, tilted, any size."""
    out = []
    for d in range(10):
        off, tilt = _OFFSETS[d], (12 if d % 2 else -12)
        conditions: list[tuple[str, dict]] = [
            ("default", {}),
            ("thin", dict(thickness=5)),
            ("thick", dict(thickness=24)),
            ("off-centre", dict(scale=0.45, offset=off)),
            ("tiny", dict(scale=0.3, thickness=8)),
            ("tiny off-centre", dict(scale=0.25, thickness=8, offset=off)),
            ("canvas-filling", dict(scale=0.93, thickness=16)),
            ("thin canvas-filling", dict(scale=0.95, thickness=6)),
            ("rotated", dict(angle_deg=tilt)),
            ("thick off-centre rotated", dict(thickness=26, scale=0.4, offset=(-off[0], -off[1]), angle_deg=-tilt)),
            ("200px", dict(canvas=200, thickness=9)),
            ("400px thin off-centre", dict(canvas=400, thickness=6, scale=0.5, offset=off)),
        ]
        conditions += [(f"variant {v}", dict(variant=v)) for v in range(1, len(DIGIT_STROKE_VARIANTS[d]))]
        out += [(render_digit(d, **kw), d, f"{d} {desc}") for desc, kw in conditions]
    return out
