"""The Inspect tab: the two networks layer by layer (diagram and per-layer table), side by side."""

from __future__ import annotations

import gradio as gr

from ..builder import layers_from_json
from ..config import ConfigError, ModelConfig
from ..plots import network_diagram
from ..session import NAMES
from .builder_panel import report_frame


def diagram(layers_a: str, layers_b: str):
    """Both networks as blocks coloured by layer type, sized by activation volume (a broken list is left out)."""
    configs = {}
    for name, text in zip(NAMES, (layers_a, layers_b)):
        try:
            configs[name] = ModelConfig(layers_from_json(text))
        except ConfigError:
            continue  # its table says what is wrong
    return network_diagram(configs) if configs else None


def inspect_tab(layer_boxes: list[gr.Textbox]) -> None:
    gr.Markdown(
        "**The two networks, layer by layer** (a block's height shows its activation volume). They follow the Train tab's settings."
    )
    network = gr.Plot(diagram(*(box.value for box in layer_boxes)), show_label=False, elem_id="network-diagram")
    tables = []
    with gr.Row():
        for name, box in zip(NAMES, layer_boxes):
            tables.append(
                gr.Dataframe(
                    report_frame(box.value),
                    label=f"Model {name}: output shape, parameters and FLOPs per layer",
                    interactive=False,
                    wrap=True,
                    elem_id=f"layer-table-{name}",
                )
            )
    for box, table in zip(layer_boxes, tables):
        box.change(diagram, layer_boxes, network, api_name=False, show_progress="hidden", trigger_mode="always_last")
        box.change(report_frame, box, table, api_name=False, show_progress="hidden", trigger_mode="always_last")
