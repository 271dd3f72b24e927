"""A model's learned space as an SVG map: a dot per test image coloured by its class, misread ones ringed, the
latest drawing as a star; hovering a dot shows its image and both models' answers beside the map (CSS only: no
script, so it works in the page, in a report and in a saved file alike)."""

from __future__ import annotations

import html

import numpy as np

from cnn_lab.data.pictures import displayable, png_base64
from cnn_lab.inspect.learned_space import METHOD_TITLES, LearnedSpace

# Ten colours far apart on light and dark pages (matplotlib's tab10); more classes reuse them.
CLASS_COLORS = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
)  # fmt: skip
MAP = 340  # px of the square map
PANEL = 150  # px to its right: the hovered image and its answers
STYLE = (
    "<style>.cnn-space .tip{display:none}.cnn-space g.pt:hover .tip{display:inline}"
    ".cnn-space g.pt:hover circle{stroke:currentColor;stroke-width:2}"
    ".cnn-space text{fill:currentColor;font:11px sans-serif}</style>"
)


def space_svg(space: LearnedSpace, model: str, images: np.ndarray, class_names: tuple[str, ...]) -> str:
    """Model ``model``'s map of ``space``; ``images`` are the points' test images (uint8), in the same order."""
    points = space.points[model]
    drawn = space.drawing.get(model)
    everything = points if drawn is None else np.vstack([points, drawn[None]])
    low, high = everything.min(0), everything.max(0)
    span = np.where(high - low > 0, high - low, 1.0)

    def at(p: np.ndarray) -> tuple[float, float]:
        x, y = (p - low) / span
        return 12 + x * (MAP - 24), 12 + (1 - y) * (MAP - 24)

    order = (model, *(n for n in space.guesses if n != model))
    parts = [_dot(space, k, order, at(points[k]), images[k], class_names) for k in range(len(points))]
    if drawn is not None:
        parts.append(_star(*at(drawn)))
    misread = int((space.guesses[model] != space.labels).sum())
    title = (
        f"Model {html.escape(model)}: {METHOD_TITLES[space.method]} of its last hidden features, "
        f"{len(points):,} test images, {misread} misread (ringed)"
    )
    height = max(MAP, 245 + 14 * ((min(len(class_names), 20) + 1) // 2))
    return (
        f'<div class="cnn-space" style="color:var(--body-text-color)">{STYLE}'
        f'<div style="font-size:13px;margin:4px 0">{title}</div>'
        f'<svg viewBox="0 0 {MAP + PANEL} {height}" width="100%" style="max-width:{MAP + PANEL}px" role="img" '
        f'aria-label="{title}">'
        f'<rect x="0.5" y="0.5" width="{MAP - 1}" height="{MAP - 1}" fill="none" stroke="currentColor" '
        'stroke-opacity="0.3"/>'
        f'<text x="{MAP + 15}" y="14">hover a dot</text>' + "".join(parts) + _legend(class_names) + "</svg></div>"
    )


def _dot(
    space: LearnedSpace, k: int, order: tuple[str, ...], xy: tuple[float, float], image: np.ndarray, names: tuple
) -> str:
    """One test image's dot, and what its hover shows beside the map: the image, its class, each model's answer."""
    truth = int(space.labels[k])
    answers = [(n, int(space.guesses[n][k])) for n in order]
    wrong = answers[0][1] != truth
    words = html.escape(f"true {names[truth]} · " + " · ".join(f"{n}: {names[g]}" for n, g in answers))
    ring = ' stroke="#dc2626" stroke-width="1.6"' if wrong else ""
    lines = "".join(
        f'<text x="{MAP + 15}" y="{166 + 15 * i}">{html.escape(n)}: {html.escape(names[g])}'
        f"{' ✗' if g != truth else ''}</text>"
        for i, (n, g) in enumerate(answers)
    )
    return (
        f'<g class="pt"><title>{words}</title>'
        f'<circle cx="{xy[0]:.1f}" cy="{xy[1]:.1f}" r="{4.2 if wrong else 3.2}" fill="{CLASS_COLORS[truth % 10]}"'
        f' fill-opacity="0.85"{ring}/>'
        f'<g class="tip"><image href="data:image/png;base64,{png_base64(displayable(image))}" x="{MAP + 15}" y="20"'
        ' width="112" height="112" style="image-rendering:pixelated"/>'
        f'<text x="{MAP + 15}" y="150">true {html.escape(names[truth])}</text>{lines}</g></g>'
    )


def _star(x: float, y: float) -> str:
    """The latest drawing's place: a five-pointed star."""
    corners = " ".join(
        f"{x + (9 if i % 2 == 0 else 4) * np.sin(t):.1f},{y - (9 if i % 2 == 0 else 4) * np.cos(t):.1f}"
        for i, t in enumerate(np.linspace(0, 2 * np.pi, 11)[:-1])
    )
    return (
        f'<polygon points="{corners}" fill="#facc15" stroke="currentColor" stroke-width="1.2">'
        "<title>your latest drawing</title></polygon>"
    )


def _legend(class_names: tuple[str, ...]) -> str:
    """The classes' colours, two columns under the hover panel (the first 20)."""
    return "".join(
        f'<circle cx="{MAP + 20 + 70 * (i % 2)}" cy="{232 + 14 * (i // 2)}" r="4" fill="{CLASS_COLORS[i % 10]}"/>'
        f'<text x="{MAP + 28 + 70 * (i % 2)}" y="{236 + 14 * (i // 2)}">{html.escape(name[:9])}</text>'
        for i, name in enumerate(class_names[:20])
    )
