"""A network as an SVG a browser can explore: one block per layer (height: its maps' size, width: its channels),
coloured by kind, kernels drawn to scale inside the blocks they slide over, and, for a drawing, each block as
bright as the layer's activation for it, with a dot running the data's path. Hovering (or focusing) a block shows
what the layer does, its output shape, parameters and FLOPs. Plain text; no Gradio here.
"""

from __future__ import annotations

import html
import math

from cnn_lab.core.config import Conv, ModelConfig, Pool
from cnn_lab.engine.models import ModelSummary, summarize

HEIGHT, STEP, TOP = 150, 74, 32  # drawing height of a 28-px map, distance between blocks, margin above
COLOURS = {
    "Conv2d": "#2563eb",
    "MaxPool2d": "#ea580c",
    "AvgPool2d": "#ea580c",
    "BatchNorm2d": "#7c3aed",
    "BatchNorm1d": "#7c3aed",
    "Flatten": "#64748b",
    "Linear": "#dc2626",
}
WHAT = {
    "Conv2d": "slides its kernels over every input channel; each kernel makes one feature map",
    "MaxPool2d": "keeps the largest value of each window: smaller maps, what was found kept",
    "AvgPool2d": "keeps the mean of each window: smaller, smoother maps",
    "BatchNorm2d": "rescales each channel to mean 0 and std 1 over the batch, then by learnt weights",
    "BatchNorm1d": "rescales each feature to mean 0 and std 1 over the batch, then by learnt weights",
    "Dropout": "zeroes a random share of values while training; passes everything when reading",
    "GeneratorDropout": "zeroes a random share of values while training; passes everything when reading",
    "Flatten": "lays the maps out as one long vector for the layers after it",
    "Linear": "every output is a weighted sum of every input",
}
ACTIVATIONS = "an activation: applied to every value, so stacked layers do not collapse into one linear map"
CSS = """
.cnn-net text { font: 11px sans-serif; fill: currentColor; pointer-events: none; }
.cnn-net .cnn-window { pointer-events: none; }
.cnn-net .cnn-info { visibility: hidden; }
.cnn-net .cnn-layer:hover .cnn-info, .cnn-net .cnn-layer:focus .cnn-info { visibility: visible; }
.cnn-net .cnn-layer:hover rect.cnn-block, .cnn-net .cnn-layer:focus rect.cnn-block { stroke: currentColor; stroke-width: 2; }
.cnn-net .cnn-layer { outline: none; cursor: help; }
"""


def _words(kind: str) -> str:
    return WHAT.get(kind, ACTIVATIONS)


def untrained_network_svg(config: ModelConfig, name: str) -> str:
    """Model ``name``'s diagram before it trains: its layers' shapes and sizes, nothing lit."""
    return network_svg(config, summarize(config), f"Model {name} (untrained; draw after training to light it)")


def network_svg(
    config: ModelConfig, summary: ModelSummary, title: str, activation: dict[str, float] | None = None
) -> str:
    """``config`` drawn as above; ``activation`` (a layer name -> mean |output| for one drawing) makes blocks as
    bright as their layer's response, relative to the strongest, and runs a dot along the data's path."""
    rows = summary.layers
    width = STEP * (len(rows) + 1) + 40
    bottom = TOP + HEIGHT + 16
    strongest = max(activation.values(), default=0.0) if activation else 0.0
    parts = [
        f'<svg class="cnn-net" data-model="{html.escape(title.split()[1] if title.startswith("Model ") else title)}" '
        f'viewBox="0 0 {width} {bottom + 58}" width="100%" role="img" '
        f'aria-label="{html.escape(title)}" xmlns="http://www.w3.org/2000/svg"><style>{CSS}</style>',
        f'<text x="4" y="12" font-weight="bold">{html.escape(title)}</text>',
    ]
    channels, side = config.input_shape[0], config.input_shape[1]
    parts.append(_block(0, "input", channels, side, "#94a3b8", 0.5, [
        f"input: {config.input_shape[1]}x{config.input_shape[2]} pixels, {channels} channel{'s' if channels > 1 else ''}"
    ], bottom))  # fmt: skip
    for index, row in enumerate(rows, start=1):
        shape = row.output_shape
        ch, sz = (shape[0], shape[1]) if len(shape) == 3 else (shape[0], 1)
        strength = 0.55 if not strongest else 0.15 + 0.85 * activation.get(row.name, 0.0) / strongest
        layer = config.layers[index - 1] if index - 1 < len(config.layers) else None
        info = [
            f"{row.name} ({row.kind}): {_words(row.kind)}",
            f"output {'x'.join(map(str, shape))}, {row.params:,} parameters, {row.flops / 1e6:.2f} MFLOPs per image"
            + (f"; activation {activation.get(row.name, 0.0):.3f}" if activation else ""),
        ]
        block = _block(index, row.name, ch, sz, COLOURS.get(row.kind, "#16a34a"), strength, info, bottom)
        if isinstance(layer, (Conv, Pool)):  # the window it slides, drawn on its input block at that block's scale
            kernel, stride = layer.kernel, layer.stride or layer.kernel
            box = max(2.0, HEIGHT * kernel / 28)
            x, y = TOP + (index - 1) * STEP, TOP + (HEIGHT - max(6.0, HEIGHT * side / 28)) / 2
            block = block.replace(
                "</g>",
                f'<rect class="cnn-window" x="{x + 1}" y="{y + 1:.1f}" width="{box:.1f}" height="{box:.1f}" '
                f'fill="none" stroke="#facc15" stroke-width="1.5"/><text x="{x + 1}" y="{y + box + 12:.1f}">'
                f"{kernel}x{kernel}{f' s{stride}' if stride > 1 else ''}</text></g>",
                1,
            )
        parts.append(block)
        side = sz
    if strongest:
        path = f"M {TOP + 6} {TOP + HEIGHT / 2} L {TOP + len(rows) * STEP + 20} {TOP + HEIGHT / 2}"
        parts.append(
            f'<circle r="5" fill="#facc15" stroke="#111"><animateMotion dur="1.6s" repeatCount="1" '
            f'fill="freeze" path="{path}"/></circle>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _block(
    index: int, name: str, channels: int, side: int, colour: str, strength: float, info: list[str], bottom: float
) -> str:
    """One layer: a rect sized by its output, its name below, and its info lines (shown on hover) under all."""
    height = max(6.0, HEIGHT * side / 28)
    block_width = max(6.0, min(STEP - 14, 6 * math.log2(channels + 1)))
    x, y = TOP + index * STEP, TOP + (HEIGHT - height) / 2
    lines = "".join(
        f'<text class="cnn-info" x="4" y="{bottom + 16 + 14 * k}">{html.escape(line)}</text>'
        for k, line in enumerate(info)
    )
    return (
        f'<g class="cnn-layer" tabindex="0" data-layer="{html.escape(name)}"><title>{html.escape(" | ".join(info))}</title>'
        f'<rect class="cnn-block" x="{x}" y="{y:.1f}" width="{block_width:.1f}" height="{height:.1f}" rx="2" '
        f'fill="{colour}" fill-opacity="{strength:.2f}"/>'
        f'<text x="{x}" y="{TOP - 4 if index % 2 else bottom - 14}">{html.escape(name[:9])}</text>{lines}</g>'
    )
