"""The layer builder of one model column (Gradio layout and wiring only; builder.py does the edits).

The column's hidden layers box (JSON) is the single source of truth: every
edit rewrites it, which re-renders the rows (``key=`` keeps each control's
identity across re-renders) and switches the column to the builder.
"""

from __future__ import annotations

import gradio as gr
import pandas as pd

from cnn_lab.core.builder import (
    CHOICES,
    NEW_LAYER,
    add_layer,
    apply_drop,
    edit_layer,
    editable_fields,
    layers_from_json,
    layers_to_json,
    move_layer,
    remove_layer,
)
from cnn_lab.core.config import ConfigError, ModelConfig
from cnn_lab.inspect.layer_report import layer_report
from cnn_lab.ui.parts.checked import Dropdown
from cnn_lab.ui.parts.drag_drop import end_zone_html, palette_html, read_drop_js, row_title_html
from cnn_lab.ui.parts.fields import BUILDER, RawNumber
from cnn_lab.ui.parts.wiring import escaped, user_errors

FIELD_LABELS = {"out_channels": "channels", "out_features": "features", "p": "drop p"}
MOVES = (
    ("↑", "up", lambda layers, i: move_layer(layers, i, -1)),
    ("↓", "down", lambda layers, i: move_layer(layers, i, 1)),
    ("✕", "remove", remove_layer),
)


def report_frame(text: str, input_shape: tuple[int, int, int] = (1, 28, 28), classes: int = 10) -> pd.DataFrame:
    """The validation table: every layer's output shape, parameters and FLOPs on images of ``input_shape`` with
    ``classes`` classes, the broken one marked in place."""
    try:
        rows = layer_report(layers_from_json(text), input_shape, classes).rows
    except ConfigError as err:
        return pd.DataFrame(
            {"#": [""], "layer": ["(layer list)"], "output": [""], "params": [""], "FLOPs": [""], "problem": [str(err)]}
        )
    return pd.DataFrame(
        {
            "#": [r.number for r in rows],
            "layer": [r.layer for r in rows],
            "output": [r.output_shape or "-" for r in rows],
            "params": [f"{r.params:,}" if r.params is not None else "-" for r in rows],
            "FLOPs": [f"{r.flops:,}" if r.flops is not None else "-" for r in rows],
            "problem": [f"⚠ {r.problem}" if r.problem else "" for r in rows],
        }
    )


def builder_panel(name: str, layers_box: gr.Textbox, architecture: gr.Dropdown) -> gr.Dataframe:
    """Rows of editable layers (dragged by their handles to reorder), a palette to drag new layers from, and an add
    control; returns the validation table (updated by the caller)."""

    # One render at a time, app-wide: a render registers its rows' events in the app's table of events, and two
    # renders at once (A's and B's builder when a shared link sets both) break Gradio ("dictionary changed size
    # during iteration"). A render takes milliseconds.
    @gr.render(inputs=layers_box, concurrency_limit=1, concurrency_id="layer builder")
    def layer_rows(text: str):
        try:
            layers = layers_from_json(text)
        except ConfigError as err:
            gr.Markdown(f"⚠ {escaped(err)}")
            return
        try:
            ModelConfig(layers)  # shape inference only: the table beside it computes the FLOPs
            problems = {}
        except ConfigError as err:
            problems = {err.layer: str(err)}
        for index, layer in enumerate(layers):
            with gr.Row(
                key=f"{name}-row-{index}",
                equal_height=False,
                elem_classes="cnn-layer-row",
                elem_id=f"layer-{name}-{index + 1}",
            ):
                marker = index + 1 in problems
                with gr.Column(scale=0, min_width=110):
                    gr.HTML(row_title_html(index + 1, layer.type, marker), key=f"{name}-title-{index}")
                for field_name in editable_fields(layer):
                    value = getattr(layer, field_name)
                    key = f"{name}-{index}-{layer.type}-{field_name}"
                    label = FIELD_LABELS.get(field_name, field_name)
                    choices = CHOICES.get((layer.type, field_name))
                    if choices:
                        control = Dropdown(
                            list(choices), value=value, label=label, key=key, min_width=90, interactive=True
                        )
                        triggers = [control.change]
                    else:
                        control = RawNumber(value, label=label, key=key, min_width=70, interactive=True)
                        triggers = [control.submit, control.blur]

                    def edit(current: str, new_value, index=index, field_name=field_name):
                        with user_errors("Builder · "):
                            layers = edit_layer(layers_from_json(current), index, field_name, new_value)
                            return layers_to_json(layers), BUILDER

                    gr.on(
                        triggers,
                        edit,
                        inputs=[layers_box, control],
                        outputs=[layers_box, architecture],
                        api_name=False,
                        show_progress="hidden",
                    )
                with gr.Column(scale=0, min_width=130):
                    with gr.Row(elem_classes="cnn-layer-buttons"):
                        for label, tip, operation in MOVES:
                            button = gr.Button(
                                label, size="sm", min_width=36, key=f"{name}-{tip}-{index}", elem_classes="cnn-small"
                            )

                            def apply(current: str, index=index, operation=operation):
                                with user_errors("Builder · "):
                                    return layers_to_json(operation(layers_from_json(current), index)), BUILDER

                            button.click(
                                apply,
                                inputs=layers_box,
                                outputs=[layers_box, architecture],
                                api_name=False,
                                show_progress="hidden",
                            )
                if marker:
                    gr.Markdown(
                        f"⚠ {escaped(problems[index + 1])}", key=f"{name}-problem-{index}", elem_classes="cnn-problem"
                    )
        gr.HTML(end_zone_html(name, len(layers)), key=f"{name}-end", elem_id=f"drop-end-{name}")

    gr.HTML(palette_html(name), elem_id=f"palette-{name}")  # under the list, by its end: where most layers go
    with gr.Row():
        kind = Dropdown(list(NEW_LAYER), value="conv", label="New layer type", min_width=120)
        add = gr.Button("Add layer", min_width=100)

    def add_one(current: str, new_kind: str):
        with user_errors("Builder · "):
            return layers_to_json(add_layer(layers_from_json(current), new_kind)), BUILDER

    add.click(
        add_one,
        [layers_box, kind],
        [layers_box, architecture],
        api_name=False,
    )
    command = gr.Textbox(visible=False)  # what the browser says was dropped where (drag_drop.py)
    dropped = gr.Button("apply a drop", visible="hidden", elem_id=f"drop-{name}")

    def drop(current: str, what: str):
        with user_errors("Builder · "):
            return layers_to_json(apply_drop(layers_from_json(current), what)), BUILDER

    dropped.click(
        drop, [layers_box, command], [layers_box, architecture], js=read_drop_js(name), api_name=False,
        show_progress="hidden",
    )  # fmt: skip
    return gr.Dataframe(
        report_frame(layers_box.value),
        label=f"Model {name}: layer by layer",
        interactive=False,
        wrap=True,
        elem_id=f"builder-table-{name}",
    )
