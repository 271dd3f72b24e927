"""The Train & compare tab: two model columns, the run, live curves, results beside the sketchpad, checkpoints.

Layout and wiring only; every handler calls the Session and shows what comes back. Handlers are plain module-level
functions; the session arrives as the last input (a gr.State) and never leaves the server.
"""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from cnn_lab.core.config import DEFAULT_CHANNELS
from cnn_lab.core.presets import DEFAULT_CHANNELS_B, DEFAULT_TRAIN_IMAGES
from cnn_lab.session import NAMES
from cnn_lab.ui.parts.fields import SETUP_FIELDS, in_page_order
from cnn_lab.ui.parts.tab_parts import Refresh, TabParts
from cnn_lab.ui.train.curves import live_charts
from cnn_lab.ui.train.results import checkpoint_section, results_and_sketch
from cnn_lab.ui.train.run import cross_validation_section, wire_training
from cnn_lab.ui.train.setup import (
    model_column,
    restore_from_link,
    run_plan,
    run_settings,
    share_section,
    wire_setup,
)


@dataclass(frozen=True, kw_only=True)
class TrainTab(TabParts):
    """The components other tabs need: the setup inputs by SETUP_FIELDS name, the layer boxes, and the note where
    restoring a shared link (when the page loads) or setting up an experiment says how it went."""

    setup: dict[str, gr.components.Component]
    layer_boxes: list[gr.Textbox]
    share_note: gr.Markdown


def train_tab(session: gr.State, device: str, max_concurrent_trainings: int, limits: str = "") -> TrainTab:
    """Lay out the tab and wire its events (inside a gr.Tab of the app); ``limits`` describes a public server's."""
    gr.Markdown("Configure two small CNNs, train them side by side on the same batches, and compare.")
    if limits:
        gr.Markdown(f"**A public server:** each run may use at most {limits}.", elem_id="server-limits")
    epoch_images = gr.Number(DEFAULT_TRAIN_IMAGES, visible=False)  # images per epoch of the run, for schedule previews
    setup, previews = {}, []
    with gr.Row():
        for name, channels in zip(NAMES, (DEFAULT_CHANNELS, DEFAULT_CHANNELS_B)):
            inputs, preview = model_column(name, channels, epoch_images)
            setup |= inputs
            previews.append(preview)
    setup |= run_settings(device)
    assert set(setup) == set(SETUP_FIELDS), "every setup field has one component"
    c = {"status": gr.Markdown("Ready. Press **Train Models**.", elem_id="status")}
    with gr.Row():
        c["train"] = gr.Button("Train Models", variant="primary", elem_id="train")
        c["stop"] = gr.Button("Stop", variant="stop", elem_id="stop")
    share = share_section()
    c |= live_charts() | results_and_sketch() | checkpoint_section()
    cv = cross_validation_section()
    wire_training(c, cv, setup, session, max_concurrent_trainings)
    wire_setup(setup, share, previews, epoch_images, session)
    restore = Refresh(restore_from_link, [], [*in_page_order(setup), share["note"]])
    plan = Refresh(run_plan, [*in_page_order(setup), session], [c["status"]], then=True)  # of the restored setup
    for name in ("run.dataset", "run.train_subset", "run.validation_size", "A.epochs", "B.epochs"):
        setup[name].change(
            run_plan, plan.inputs, plan.outputs, api_name=False, show_progress="hidden", trigger_mode="always_last"
        )
    return TrainTab(
        on_load=(restore, plan),
        setup=setup,
        layer_boxes=[setup["A.layers"], setup["B.layers"]],
        share_note=share["note"],
    )
