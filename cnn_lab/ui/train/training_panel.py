"""The training controls of one model column (Gradio layout and wiring only; TrainConfig validates, training.py trains).

The basic four (optimizer, learning rate, batch size, epochs) sit in the
column; everything else is under "Advanced training", each control with a
one-line explanation. Controls an optimizer, schedule or loss does not use
are hidden, not lost: their values still travel with the setup.
"""

from __future__ import annotations

import gradio as gr
import pandas as pd

from cnn_lab.core.config import (
    AUGMENTATIONS,
    EARLY_STOPPING,
    LOSSES,
    OPTIMIZERS,
    SCHEDULES,
    TYPICAL_LEARNING_RATE,
    TYPICAL_MOMENTUM,
    TYPICAL_WEIGHT_DECAY,
    ConfigError,
    TrainConfig,
)
from cnn_lab.core.presets import DEFAULT_TRAIN_IMAGES
from cnn_lab.ui.parts.checked import Checkbox, CheckboxGroup, Dropdown
from cnn_lab.ui.parts.fields import TRAIN_FIELDS, WHOLE_NUMBER_FIELDS, RawNumber, train_config, train_values
from cnn_lab.views.labels import CHOICE_LABELS, LABELS, choice_label
from cnn_lab.views.schedule import schedule_table

# A control shown only while another setting takes one of some values: field -> (setting, values)
USED_WHEN = {
    "momentum": ("optimizer", {"sgd", "rmsprop"}),
    "nesterov": ("optimizer", {"sgd"}),
    "beta1": ("optimizer", {"adam", "adamw"}),
    "beta2": ("optimizer", {"adam", "adamw"}),
    "alpha": ("optimizer", {"rmsprop"}),
    "gamma": ("schedule", {"step", "exponential"}),
    "decay_every": ("schedule", {"step"}),
    "label_smoothing": ("loss", {"label_smoothing"}),
    "patience": ("early_stopping", {"val_loss", "val_accuracy"}),
}
BASICS = ("optimizer", "learning_rate", "batch_size", "epochs")  # in the column, each saying where its model starts
assert [v for _, v in CHOICE_LABELS["optimizer"]] == list(OPTIMIZERS) and [
    v for _, v in CHOICE_LABELS["schedule"]
] == list(SCHEDULES)
assert [v for _, v in CHOICE_LABELS["loss"]] == list(LOSSES) and [
    v for _, v in CHOICE_LABELS["early_stopping"]
] == list(EARLY_STOPPING)
assert [v for _, v in CHOICE_LABELS["augment"]] == list(AUGMENTATIONS)
LOSS_NOTES = {
    "cross_entropy": "Cross-entropy: the log-probability of the right class; strong gradients while a model is wrong.",
    "label_smoothing": "Cross-entropy against softened targets: discourages over-confident outputs.",
    "hinge": "Multi-class hinge (SVM) loss: zero once the right class wins by a margin of 1.",
    "mse": "Squared error between softmax outputs and one-hot targets: gradients vanish when a model is confidently wrong, "
    "so it learns slowly (compare it with cross-entropy).",
}


def schedule_frame(train_images, *values) -> pd.DataFrame:
    """The learning rate over the run for a column's settings and the run's training images (empty while a setting is invalid)."""
    try:
        train = train_config(dict(zip(TRAIN_FIELDS, values, strict=True)))
    except ConfigError:
        train = None
    return schedule_table(train, int(train_images or DEFAULT_TRAIN_IMAGES))


def typical_settings(optimizer: str) -> tuple:
    """Picking an optimizer puts in the values it is usually run with: its learning rate, momentum and weight decay."""
    if not isinstance(optimizer, str) or optimizer not in TYPICAL_LEARNING_RATE:  # not one of the page's choices
        return gr.skip(), gr.skip(), gr.skip()
    return (
        TYPICAL_LEARNING_RATE[optimizer],
        TYPICAL_MOMENTUM.get(optimizer, 0.0),
        TYPICAL_WEIGHT_DECAY.get(optimizer, 0.0),
    )


SCHEDULE_INPUTS = ("schedule", "learning_rate", "epochs", "batch_size", "warmup_epochs", "gamma", "decay_every",
                   "optimizer", "momentum", "beta1")  # fmt: skip  # the settings the schedule preview draws


def control(field: str, defaults: TrainConfig, **kwargs) -> gr.components.Component:
    """One setting's control, labelled and explained from LABELS: a choice, a checkbox or a number."""
    label, info = LABELS[field]
    value = getattr(defaults, field)
    if field in BASICS:  # the hint names this model's own start (A and B start apart)
        info += f"; starts at {choice_label(field, value) if field in CHOICE_LABELS else value}"
    if field in CHOICE_LABELS and field != "augment":
        return Dropdown(CHOICE_LABELS[field], value=value, label=label, info=info, **kwargs)
    if isinstance(value, bool):
        return Checkbox(value, label=label, info=info, **kwargs)
    precision = 0 if field in WHOLE_NUMBER_FIELDS else None
    return RawNumber(value, label=label, info=info, precision=precision, **kwargs)


def training_controls(
    name: str, defaults: TrainConfig, train_images: gr.Number
) -> tuple[dict[str, gr.components.Component], gr.Gallery, gr.Button]:
    """Lay out one column's training controls; returns them by TrainConfig field, plus the augmentation preview and its button.

    ``train_images`` (hidden) holds how many images an epoch of the run has, for the schedule preview.
    """
    with gr.Row():
        c = {field: control(field, defaults, min_width=120) for field in BASICS}
    hidden = {f for f, (setting, values) in USED_WHEN.items() if getattr(defaults, setting) not in values}

    def row(*fields: str, min_width: int = 120) -> None:
        with gr.Row():
            for field in fields:
                c[field] = control(field, defaults, visible=field not in hidden, min_width=min_width)

    with gr.Accordion(f"Advanced training, model {name}", open=False):
        gr.Markdown("**Optimizer settings** (shown for the optimizers that use them)")
        row("weight_decay", "momentum", "nesterov", "beta1", "beta2", "alpha")
        gr.Markdown("**Learning-rate schedule**")
        row("schedule", "warmup_epochs", "gamma", "decay_every")
        preview = gr.LinePlot(
            schedule_frame(DEFAULT_TRAIN_IMAGES, *train_values(defaults)), x="epoch", y="learning rate",
            title=f"Schedule preview, model {name}", height=170, x_title="epoch",
        )  # fmt: skip
        gr.Markdown("**Loss and early stopping**")
        row("loss", "label_smoothing", min_width=160)
        loss_note = gr.Markdown(LOSS_NOTES[defaults.loss])
        row("early_stopping", "patience", min_width=160)
        gr.Markdown("**Data preprocessing**")
        c["normalize"] = control("normalize", defaults)
        label, info = LABELS["augment"]
        c["augment"] = CheckboxGroup(CHOICE_LABELS["augment"], value=list(defaults.augment), label=label, info=info)
        gallery = gr.Gallery(
            label=f"Augmentation preview: training images as model {name} sees them, with their labels",
            columns=4, height=300, elem_classes="cnn-augment", allow_preview=False,
        )  # fmt: skip
        redraw = gr.Button("Preview augmentation", size="sm")
    wire_controls(c, loss_note, preview, train_images)
    return c, gallery, redraw


def wire_controls(c: dict, loss_note: gr.Markdown, preview: gr.LinePlot, train_images: gr.Number) -> None:
    """Controls an optimizer, schedule or loss does not use hide; the loss explains itself; an optimizer brings its
    typical values; the schedule preview follows every setting it draws."""
    for setting in ("optimizer", "schedule", "loss", "early_stopping"):
        dependents = [f for f, (s, _) in USED_WHEN.items() if s == setting]
        c[setting].change(
            lambda value, dependents=dependents: {
                c[f]: gr.update(visible=isinstance(value, str) and value in USED_WHEN[f][1]) for f in dependents
            },
            c[setting], [c[f] for f in dependents], api_name=False, show_progress="hidden",
        )  # fmt: skip
    c["loss"].change(LOSS_NOTES.get, c["loss"], loss_note, api_name=False, show_progress="hidden")
    c["optimizer"].input(
        typical_settings, c["optimizer"], [c["learning_rate"], c["momentum"], c["weight_decay"]], api_name=False,
        show_progress="hidden",
    )  # fmt: skip
    inputs = [c[f] for f in TRAIN_FIELDS]
    for trigger in [*(c[f] for f in SCHEDULE_INPUTS), train_images]:
        trigger.change(schedule_frame, [train_images, *inputs], preview, api_name=False, show_progress="hidden")
