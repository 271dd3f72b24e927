"""The layer builder of one model column (Gradio layout and wiring only; builder.py does the edits).

The column's hidden layers box (JSON) is the single source of truth: every
edit rewrites it, which re-renders the rows (``key=`` keeps each control's
identity across re-renders) and switches the column to the builder.
"""

from __future__ import annotations

import gradio as gr

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
from cnn_lab.ui.parts.checked import Dropdown
from cnn_lab.ui.parts.drag_drop import end_zone_html, palette_html, read_drop_js, row_title_html
from cnn_lab.ui.parts.fields import BUILDER, RawNumber
from cnn_lab.ui.parts.wiring import escaped, user_errors
from cnn_lab.views.tables import report_frame

FIELD_LABELS = {"out_channels": "channels", "out_features": "features", "p": "drop p"}
MOVES = (
    ("↑", "up", lambda layers, i: move_layer(layers, i, -1)),
    ("↓", "down", lambda layers, i: move_layer(layers, i, 1)),
    ("✕", "remove", remove_layer),
)


def builder_panel(name: str, layers_box: gr.Textbox, architecture: gr.Dropdown) -> gr.Dataframe:
    """Rows of editable layers (dragged by their handles to reorder), a palette to drag new layers from, and an add
    control; returns the validation table (updated by the caller)."""
    changed = [layers_box, architecture]  # every edit writes the layer list and switches the column to the builder

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
            layer_row(name, index, layer, problems.get(index + 1), changed)
        gr.HTML(end_zone_html(name, len(layers)), key=f"{name}-end", elem_id=f"drop-end-{name}")

    gr.HTML(palette_html(name), elem_id=f"palette-{name}")  # under the list, by its end: where most layers go
    with gr.Row():
        kind = Dropdown(list(NEW_LAYER), value="conv", label="New layer type", min_width=120)
        add = gr.Button("Add layer", min_width=100)
    add.click(edited(add_layer), [layers_box, kind], changed, api_name=False)
    command = gr.Textbox(visible=False)  # what the browser says was dropped where (drag_drop.py)
    dropped = gr.Button("apply a drop", visible="hidden", elem_id=f"drop-{name}")
    dropped.click(
        edited(apply_drop), [layers_box, command], changed, js=read_drop_js(name), api_name=False,
        show_progress="hidden",
    )  # fmt: skip
    return gr.Dataframe(
        report_frame(layers_box.value),
        label=f"Model {name}: layer by layer",
        interactive=False,
        wrap=True,
        elem_id=f"builder-table-{name}",
    )


def edited(operation):
    """A handler applying ``operation(layers, *values)`` to the layer list's JSON: the new JSON, and the builder
    chosen as the column's architecture (a refused edit says why, by its field)."""

    def apply(current: str, *values):
        with user_errors("Builder · "):
            return layers_to_json(operation(layers_from_json(current), *values)), BUILDER

    return apply


def layer_row(name: str, index: int, layer, problem: str | None, changed: list) -> None:
    """One layer of the list: its number and type, a control per editable field, move and remove buttons, and what
    is wrong with it (if anything)."""
    with gr.Row(
        key=f"{name}-row-{index}", equal_height=False, elem_classes="cnn-layer-row", elem_id=f"layer-{name}-{index + 1}"
    ):
        with gr.Column(scale=0, min_width=110):
            gr.HTML(row_title_html(index + 1, layer.type, problem is not None), key=f"{name}-title-{index}")
        for field_name in editable_fields(layer):
            field_control(name, index, layer, field_name, changed)
        with gr.Column(scale=0, min_width=130):
            with gr.Row(elem_classes="cnn-layer-buttons"):
                for label, tip, operation in MOVES:
                    button = gr.Button(
                        label, size="sm", min_width=36, key=f"{name}-{tip}-{index}", elem_classes="cnn-small"
                    )
                    button.click(
                        edited(lambda layers, operation=operation: operation(layers, index)),
                        inputs=changed[0], outputs=changed, api_name=False, show_progress="hidden",
                    )  # fmt: skip
        if problem is not None:
            gr.Markdown(f"⚠ {escaped(problem)}", key=f"{name}-problem-{index}", elem_classes="cnn-problem")


def field_control(name: str, index: int, layer, field_name: str, changed: list) -> None:
    """The control of one field of one layer: a choice or a number, applied when it changes (a number on Enter or
    leaving the box)."""
    value, label = getattr(layer, field_name), FIELD_LABELS.get(field_name, field_name)
    key = f"{name}-{index}-{layer.type}-{field_name}"
    choices = CHOICES.get((layer.type, field_name))
    if choices:
        control = Dropdown(list(choices), value=value, label=label, key=key, min_width=90, interactive=True)
        triggers = [control.change]
    else:
        control = RawNumber(value, label=label, key=key, min_width=70, interactive=True)
        triggers = [control.submit, control.blur]
    gr.on(
        triggers, edited(lambda layers, new_value: edit_layer(layers, index, field_name, new_value)),
        inputs=[changed[0], control], outputs=changed, api_name=False, show_progress="hidden",
    )  # fmt: skip
