"""Matplotlib figures from plain data (never pyplot state: handlers run in threads)."""

from __future__ import annotations

import io
import math
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch

from cnn_lab.core.config import ModelConfig
from cnn_lab.data.pictures import feature_map_grid, filter_grid

if TYPE_CHECKING:
    from cnn_lab.core.events import GradientEvent
    from cnn_lab.inspect.confusion import Calibration

TEXT = "#7c8594"  # a grey that reads on the light and the dark theme alike
LAYER_COLORS = {
    "input": "#9ca3af",
    "conv": "#2563eb",
    "pool": "#0d9488",
    "batchnorm": "#a855f7",
    "dropout": "#f59e0b",
    "activation": "#f97316",
    "flatten": "#64748b",
    "linear": "#dc2626",
    "classifier": "#db2777",  # not near-black: figures sit on a dark page too
}


def _blocks(config: ModelConfig) -> list[tuple[str, str, tuple[int, ...]]]:
    """(kind, label, output shape) for the input, every layer and the classifier."""
    blocks = [("input", "input", config.input_shape)]
    for layer, shape, _ in config.layer_table():
        blocks.append((layer.type, layer.describe(), shape))
    blocks.append(("classifier", f"classifier {config.num_classes}", (config.num_classes,)))
    return blocks


def network_diagram(configs: dict[str, ModelConfig]) -> Figure:
    """One row per model, one block per layer: coloured by type, height by activation volume, labelled with its shape."""
    rows = {name: _blocks(config) for name, config in configs.items()}
    largest = max(math.prod(shape) for blocks in rows.values() for _, _, shape in blocks)
    width = max(len(blocks) for blocks in rows.values())
    figure = Figure(figsize=(max(8, 0.75 * width), 2.3 * len(rows)), layout="constrained")
    figure.patch.set_alpha(0)  # the page's own background shows through, light or dark
    for row, (name, blocks) in enumerate(rows.items()):
        ax = figure.add_subplot(len(rows), 1, row + 1)
        for x, (kind, label, shape) in enumerate(blocks):
            height = 0.15 + 0.85 * math.sqrt(math.prod(shape) / largest)  # area-like: a 4x larger map looks 2x taller
            ax.add_patch(
                FancyBboxPatch((x + 0.1, -height / 2), 0.8, height, boxstyle="round,pad=0.02", color=LAYER_COLORS[kind])
            )
            ax.text(
                x + 0.5, 0.62, "x".join(map(str, shape)), ha="center", va="bottom", fontsize=7, rotation=30, color=TEXT
            )
            ax.text(x + 0.5, -0.62, label, ha="center", va="top", fontsize=7, rotation=30, color=TEXT)
        ax.set_xlim(0, width)
        ax.set_ylim(-1.3, 1.2)
        ax.set_axis_off()
        ax.set_title(f"Model {name}: {configs[name].param_count:,} parameters", loc="left", fontsize=10, color=TEXT)
    return figure


def per_class_chart(class_names: tuple[str, ...], accuracies: dict[str, list[float]], colors: dict[str, str]) -> Figure:
    """Each model's accuracy per class as bars side by side, one group per class."""
    figure = Figure(figsize=(max(8, 0.8 * len(class_names)), 2.8), layout="constrained")
    figure.patch.set_alpha(0)
    ax = figure.add_subplot()
    ax.patch.set_alpha(0)
    width = 0.8 / len(accuracies)
    for offset, (name, values) in enumerate(accuracies.items()):
        positions = [k + (offset - (len(accuracies) - 1) / 2) * width for k in range(len(class_names))]
        ax.bar(positions, [100 * v for v in values], width, label=f"Model {name}", color=colors[name])
    ax.set_xticks(range(len(class_names)), class_names, rotation=30 if max(map(len, class_names)) > 3 else 0)
    ax.set_ylim(0, 100)
    ax.set_ylabel("test accuracy (%)", color=TEXT)
    ax.tick_params(colors=TEXT)
    for side in ax.spines.values():
        side.set_color(TEXT)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False, labelcolor=TEXT)
    return figure


def per_layer_chart(values: dict[str, dict[str, float]], colors: dict[str, str], unit: str, what: str) -> Figure:
    """A number per layer for each model, one panel per model (their layers need not match): "Model A: {what}"."""
    figure = Figure(figsize=(9, 2.4 * len(values)), layout="constrained")
    figure.patch.set_alpha(0)
    for row, (name, layers) in enumerate(values.items()):
        ax = figure.add_subplot(len(values), 1, row + 1)
        ax.patch.set_alpha(0)
        ax.bar(range(len(layers)), list(layers.values()), color=colors[name])
        ax.set_xticks(range(len(layers)), list(layers), rotation=30, fontsize=8)
        ax.set_ylabel(unit, color=TEXT, fontsize=8)
        ax.set_title(f"Model {name}: {what}", loc="left", fontsize=9, color=TEXT)
        ax.tick_params(colors=TEXT)
        for side in ax.spines.values():
            side.set_color(TEXT)
    return figure


def feature_maps_figure(title: str, maps: dict[str, np.ndarray], filters: np.ndarray | None) -> Figure:
    """One model on one image: its first layer's filters, then every conv layer's maps (each scaled to its own
    range), one titled row each."""
    rows = {}
    if filters is not None:
        rows[f"first layer's {len(filters)} filters ({filters.shape[1]}x{filters.shape[2]}; red +, blue -)"] = (
            filter_grid(filters)
        )
    for layer, layer_maps in maps.items():
        count, h, w = layer_maps.shape
        rows[f"{layer}: {count} maps of {h}x{w}"] = feature_map_grid(layer_maps)
    heights = [grid.shape[0] / grid.shape[1] for grid in rows.values()]
    figure = Figure(figsize=(6, 0.4 + sum(6 * h + 0.35 for h in heights)), layout="constrained")
    figure.patch.set_alpha(0)
    figure.suptitle(title, x=0.02, ha="left", fontsize=10, color=TEXT)
    for row, (label, grid) in enumerate(rows.items()):
        ax = figure.add_subplot(len(rows), 1, row + 1)
        ax.imshow(grid, interpolation="nearest")
        ax.set_title(label, loc="left", fontsize=9, color=TEXT)
        ax.set_axis_off()
    return figure


def reliability_diagram(calibrations: dict[str, Calibration], colors: dict[str, str]) -> Figure:
    """Accuracy against confidence per bin for each model, with the diagonal a perfectly calibrated model follows."""
    figure = Figure(figsize=(5, 3.6), layout="constrained")
    figure.patch.set_alpha(0)
    ax = figure.add_subplot()
    ax.patch.set_alpha(0)
    ax.plot([0, 100], [0, 100], linestyle="--", color=TEXT, linewidth=1, label="as sure as right")
    for name, found in calibrations.items():
        filled = found.counts > 0
        ax.plot(
            100 * found.confidence[filled],
            100 * found.accuracy[filled],
            marker="o",
            color=colors[name],
            label=f"Model {name} (ECE {100 * found.error:.1f} %)",
        )
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 100)
    ax.set_xlabel("how sure it is (%)", color=TEXT)
    ax.set_ylabel("how often it is right (%)", color=TEXT)
    ax.tick_params(colors=TEXT)
    for side in ax.spines.values():
        side.set_color(TEXT)
    ax.legend(loc="upper left", fontsize=8, frameon=False, labelcolor=TEXT)
    return figure


def gradient_flow_figure(gradients: dict[str, list[GradientEvent]]) -> Figure:
    """Per model (a column each): every layer's gradient norm over training (log scale) above each ReLU layer's
    share of dead units."""
    figure = Figure(figsize=(11, 5.2), layout="constrained")
    figure.patch.set_alpha(0)
    axes = figure.subplots(2, len(gradients), squeeze=False)
    for column, (name, events) in enumerate(gradients.items()):
        seen = [e.images_seen for e in events]
        top, bottom = axes[0][column], axes[1][column]
        for layer in events[-1].norms if events else []:
            top.plot(seen, [e.norms.get(layer, math.nan) for e in events], label=layer, linewidth=1.2)
        for layer in events[-1].dead if events else []:
            bottom.plot(seen, [100 * e.dead.get(layer, math.nan) for e in events], label=layer, linewidth=1.2)
        top.set_yscale("log")
        top.set_title(f"Model {name}: gradient norm per layer", loc="left", fontsize=9, color=TEXT)
        bottom.set_title(f"Model {name}: dead ReLU units (%)", loc="left", fontsize=9, color=TEXT)
        bottom.set_ylim(0, 100)
        bottom.set_xlabel("images seen", color=TEXT, fontsize=8)
        for ax in (top, bottom):
            ax.patch.set_alpha(0)
            ax.tick_params(colors=TEXT, labelsize=8)
            for side in ax.spines.values():
                side.set_color(TEXT)
            if ax.lines:
                ax.legend(fontsize=7, frameon=False, labelcolor=TEXT, ncol=2)
    return figure


def curves_figure(curves: dict[str, tuple[list[float], list[float]]], x_label: str, y_label: str) -> Figure:
    """Named curves on one chart, each with its legend entry: runs of the history overlaid."""
    figure = Figure(figsize=(9, 3.4), layout="constrained")
    figure.patch.set_alpha(0)
    ax = figure.add_subplot()
    ax.patch.set_alpha(0)
    for label, (xs, ys) in curves.items():
        ax.plot(xs, ys, marker="o", markersize=3, linewidth=1.4, label=label)
    ax.set_xlabel(x_label, color=TEXT)
    ax.set_ylabel(y_label, color=TEXT)
    ax.tick_params(colors=TEXT)
    for side in ax.spines.values():
        side.set_color(TEXT)
    if curves:
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False, labelcolor=TEXT)
    return figure


def confusion_figure(matrices: dict[str, np.ndarray], class_names: tuple[str, ...]) -> Figure:
    """Each model's confusion matrix as a heat map with its counts (rows: true class, columns: what it read)."""
    figure = Figure(figsize=(5 * len(matrices), 4.4), layout="constrained")
    for index, (name, matrix) in enumerate(matrices.items()):
        ax = figure.add_subplot(1, len(matrices), index + 1)
        ax.imshow(matrix, cmap="Blues")
        for (row, column), count in np.ndenumerate(matrix):
            dark = count > matrix.max() / 2
            ax.text(column, row, str(count), ha="center", va="center", fontsize=7, color="white" if dark else "black")
        ax.set_xticks(
            range(len(class_names)), class_names, fontsize=8, rotation=30 if max(map(len, class_names)) > 3 else 0
        )
        ax.set_yticks(range(len(class_names)), class_names, fontsize=8)
        ax.set_xlabel("what it read", color=TEXT)
        ax.set_ylabel("true class", color=TEXT)
        ax.set_title(f"Model {name}", loc="left", fontsize=10, color=TEXT)
    return figure


def figure_png(figure: Figure) -> bytes:
    """A figure as PNG bytes, on white (a report may be read anywhere)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=96, facecolor="white")
    return buffer.getvalue()


def _styled(ax, title: str = "", x_label: str = "", y_label: str = "") -> None:
    ax.patch.set_alpha(0)
    if title:
        ax.set_title(title, loc="left", fontsize=9, color=TEXT)
    ax.set_xlabel(x_label, color=TEXT, fontsize=8)
    ax.set_ylabel(y_label, color=TEXT, fontsize=8)
    ax.tick_params(colors=TEXT, labelsize=8)
    for side in ax.spines.values():
        side.set_color(TEXT)


def robustness_figure(
    levels: dict[str, tuple[float, ...]],
    accuracy: dict[str, dict[str, list[float]]],
    units: dict[str, str],
    colors: dict[str, str],
) -> Figure:
    """One small chart per transform: each model's accuracy (%) against the transform's strength."""
    figure = Figure(figsize=(10, 5.2), layout="constrained")
    figure.patch.set_alpha(0)
    for k, (kind, xs) in enumerate(levels.items()):
        ax = figure.add_subplot(2, 3, k + 1)
        for name, ys in accuracy[kind].items():
            ax.plot(
                xs,
                [100 * y for y in ys],
                marker="o",
                markersize=3,
                linewidth=1.6,
                color=colors[name],
                label=f"Model {name}",
            )
        ax.set_ylim(0, 100)
        if xs[-1] < xs[0]:  # shrinking: the strongest change on the right, as on the others
            ax.invert_xaxis()
        _styled(ax, kind, units[kind], "accuracy (%)" if k % 3 == 0 else "")
    figure.axes[0].legend(fontsize=8, frameon=False, labelcolor=TEXT, loc="lower left")
    return figure


def weight_histograms_figure(
    layers: dict[str, list[tuple[str, np.ndarray, np.ndarray, np.ndarray, np.ndarray]]],
    epoch: int,
    colors: dict[str, str],
) -> Figure:
    """Per model a row of each layer's weight histogram at ``epoch`` and a row of its gradient histogram; each
    layer is (name, weight edges, weight counts, gradient edges, gradient counts)."""
    columns = max(len(v) for v in layers.values())
    figure = Figure(figsize=(max(8, 2.1 * columns), 3.3 * len(layers)), layout="constrained")
    figure.patch.set_alpha(0)
    for row, (name, found) in enumerate(layers.items()):
        for col, (layer, w_edges, w_counts, g_edges, g_counts) in enumerate(found):
            for half, (edges, counts, what) in enumerate(
                ((w_edges, w_counts, "weights"), (g_edges, g_counts, "gradients"))
            ):
                ax = figure.add_subplot(2 * len(layers), columns, (2 * row + half) * columns + col + 1)
                ax.stairs(counts, edges, fill=True, color=colors[name], alpha=0.8 if half == 0 else 0.45)
                ax.set_yticks([])
                _styled(ax, f"{name} · {layer} · {what}" if col == 0 else f"{layer} · {what}")
                ax.ticklabel_format(axis="x", style="sci", scilimits=(-2, 2))
                ax.xaxis.get_offset_text().set_color(TEXT)
                ax.xaxis.get_offset_text().set_fontsize(7)
    figure.suptitle(
        f"epoch {epoch}: weights (solid) and gradients on a fixed batch (light), bins shared by all epochs",
        color=TEXT,
        fontsize=9,
    )
    return figure


def loss_line_figure(lines: dict[str, tuple[list[float], list[float], list[float]]], colors: dict[str, str]) -> Figure:
    """Each model's training (dashed) and test loss along the line from its first weights (0) to its last (1)."""
    figure = Figure(figsize=(9, 3.2), layout="constrained")
    figure.patch.set_alpha(0)
    ax = figure.add_subplot()
    for name, (alphas, train, test) in lines.items():
        ax.plot(
            alphas, train, linestyle="--", linewidth=1.4, color=colors[name], label=f"Model {name}, training images"
        )
        ax.plot(
            alphas,
            test,
            marker="o",
            markersize=3,
            linewidth=1.6,
            color=colors[name],
            label=f"Model {name}, test images",
        )
    for a in (0, 1):
        ax.axvline(a, color=TEXT, linewidth=0.8, linestyle=":")
    ax.set_yscale("log")
    _styled(
        ax,
        "loss from the first weights (0) to the last (1), and a little past both",
        "a: (1 - a) x first + a x last",
        "loss (log)",
    )
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False, labelcolor=TEXT)
    return figure
