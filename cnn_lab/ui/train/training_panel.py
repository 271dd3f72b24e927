"""The training controls of one model column (Gradio layout and wiring only; TrainConfig validates, training.py trains).

The basic four (optimizer, learning rate, batch size, epochs) sit in the
column; everything else is under "Advanced training", each control with a
one-line explanation. Controls an optimizer, schedule or loss does not use
are hidden, not lost: their values still travel with the setup.
"""

from __future__ import annotations

import math

import gradio as gr
import pandas as pd

from cnn_lab.core.config import (
    AUGMENTATIONS,
    EARLY_STOPPING,
    LIMITS,
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
from cnn_lab.engine.optim import schedule_curve
from cnn_lab.ui.parts.checked import Checkbox, CheckboxGroup, Dropdown
from cnn_lab.ui.parts.fields import TRAIN_FIELDS, WHOLE_NUMBER_FIELDS, RawNumber, train_config, train_values

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
LABELS = {  # each control's label, then what it does, its allowed range, and where a beginner starts
    "optimizer": ("Optimizer", "how gradients become weight updates"),
    "learning_rate": (
        "Learning rate",
        f"step size, above 0, at most {LIMITS.max_learning_rate:g} (Adam 0.001, SGD 0.01-0.1)",
    ),
    "batch_size": ("Batch size", f"images per step, 1 to {LIMITS.max_batch_size}"),
    "epochs": ("Epochs", f"passes over the training images, 1 to {LIMITS.max_epochs}"),
    "weight_decay": (
        "Weight decay",
        "pulls weights towards 0 against overfitting; 0 to 1 (empty: the optimizer's usual); start: empty, or 1e-4",
    ),
    "momentum": (
        "Momentum",
        "share of the last update carried into the next; 0 to below 1 (empty: the optimizer's usual); start: 0.9",
    ),
    "nesterov": ("Nesterov", "SGD looks ahead along its momentum before the gradient; start: off"),
    "beta1": ("Adam beta1", "averaging of gradients (momentum); 0 to below 1; start: 0.9"),
    "beta2": ("Adam beta2", "averaging of squared gradients (step scale); 0 to below 1; start: 0.999"),
    "alpha": ("RMSprop alpha", "averaging of squared gradients; 0 to below 1; start: 0.99"),
    "schedule": (
        "Learning-rate schedule",
        "how the rate changes over the run (one-cycle also dips momentum by 0.1); start: constant, then cosine",
    ),
    "warmup_epochs": (
        "Warm-up epochs",
        "rise from 1% to the full rate first; 0 to below the epochs (one-cycle: its rise); start: 0",
    ),
    "gamma": (
        "Decay factor gamma",
        "step: x gamma per step; exponential: x gamma per epoch; above 0, at most 1; start: 0.5 (step), 0.9",
    ),
    "decay_every": ("Step every (epochs)", "epochs between two steps of the step schedule; above 0; start: 1"),
    "loss": ("Loss", "what training minimises; start: cross-entropy"),
    "label_smoothing": (
        "Label smoothing",
        "share of the target spread over all classes; above 0, below 1; start: 0.1",
    ),
    "early_stopping": (
        "Early stopping",
        "stop when the validation score stalls, keep the best epoch (needs validation images); start: off",
    ),
    "patience": (
        "Patience (epochs)",
        f"epochs without improvement before stopping; 1 to {LIMITS.max_epochs}; start: 2",
    ),
    "normalize": ("Normalise inputs", "subtract the dataset mean, divide by its std; off: pixels in [0, 1]; start: on"),
    "augment": (
        "Augmentation",
        "random changes to each training batch; none slows training much; start: none, then rotate and shift",
    ),
}
CHOICE_LABELS = {
    "optimizer": [
        ("Adam", "adam"),
        ("AdamW", "adamw"),
        ("SGD", "sgd"),
        ("RMSprop", "rmsprop"),
        ("Adadelta", "adadelta"),
    ],
    "schedule": [
        ("constant", "constant"),
        ("step", "step"),
        ("exponential", "exponential"),
        ("cosine", "cosine"),
        ("one-cycle", "onecycle"),
    ],
    "loss": [
        ("cross-entropy", "cross_entropy"),
        ("cross-entropy + label smoothing", "label_smoothing"),
        ("multi-class hinge", "hinge"),
        ("MSE on one-hot", "mse"),
    ],
    "early_stopping": [("off", "off"), ("on validation loss", "val_loss"), ("on validation accuracy", "val_accuracy")],
    "augment": [
        ("rotate ±12°", "rotate"),
        ("shift ±1.7 px", "shift"),
        ("zoom ±12%", "scale"),
        ("stroke width", "stroke"),
        ("elastic warp", "elastic"),
        ("random erasing", "erase"),
    ],
}
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
        return pd.DataFrame({"epoch": pd.Series(dtype="float64"), "learning rate": pd.Series(dtype="float64")})
    points = schedule_curve(train, math.ceil(max(int(train_images or DEFAULT_TRAIN_IMAGES), 1) / train.batch_size))
    return pd.DataFrame(points, columns=["epoch", "learning rate"])


def field_label(field: str) -> str:
    """A setting as the page labels it ("Learning rate"), not its config name ("learning_rate")."""
    return LABELS[field][0] if field in LABELS else field.replace("_", " ").capitalize()


def choice_label(field: str, value: str) -> str:
    """What the page calls a choice's value ("SGD" for "sgd")."""
    return next(label for label, choice in CHOICE_LABELS[field] if choice == value)


def typical_settings(optimizer: str) -> tuple:
    """Picking an optimizer puts in the values it is usually run with: its learning rate, momentum and weight decay."""
    if not isinstance(optimizer, str) or optimizer not in TYPICAL_LEARNING_RATE:  # not one of the page's choices
        return gr.skip(), gr.skip(), gr.skip()
    return (
        TYPICAL_LEARNING_RATE[optimizer],
        TYPICAL_MOMENTUM.get(optimizer, 0.0),
        TYPICAL_WEIGHT_DECAY.get(optimizer, 0.0),
    )


def training_controls(
    name: str, defaults: TrainConfig, train_images: gr.Number
) -> tuple[dict[str, gr.components.Component], gr.Gallery, gr.Button]:
    """Lay out one column's training controls; returns them by TrainConfig field, plus the augmentation preview and its button.

    ``train_images`` (hidden) holds how many images an epoch of the run has, for the schedule preview.
    """
    c: dict[str, gr.components.Component] = {}

    def control(field: str, **kwargs) -> gr.components.Component:
        label, info = LABELS[field]
        value = getattr(defaults, field)
        if field in BASICS:  # the hint names this model's own start (A and B start apart)
            info += f"; starts at {choice_label(field, value) if field in CHOICE_LABELS else value}"
        if field in CHOICE_LABELS and field != "augment":
            c[field] = Dropdown(CHOICE_LABELS[field], value=value, label=label, info=info, **kwargs)
        elif isinstance(value, bool):
            c[field] = Checkbox(value, label=label, info=info, **kwargs)
        else:
            c[field] = RawNumber(
                value, label=label, info=info, precision=0 if field in WHOLE_NUMBER_FIELDS else None, **kwargs
            )
        return c[field]

    with gr.Row():
        for field in BASICS:
            control(field, min_width=120)
    hidden = {f for f, (setting, values) in USED_WHEN.items() if getattr(defaults, setting) not in values}
    with gr.Accordion(f"Advanced training, model {name}", open=False):
        gr.Markdown("**Optimizer settings** (shown for the optimizers that use them)")
        with gr.Row():
            for field in ("weight_decay", "momentum", "nesterov", "beta1", "beta2", "alpha"):
                control(field, visible=field not in hidden, min_width=120)
        gr.Markdown("**Learning-rate schedule**")
        with gr.Row():
            for field in ("schedule", "warmup_epochs", "gamma", "decay_every"):
                control(field, visible=field not in hidden, min_width=120)
        preview = gr.LinePlot(
            schedule_frame(DEFAULT_TRAIN_IMAGES, *train_values(defaults)),
            x="epoch",
            y="learning rate",
            title=f"Schedule preview, model {name}",
            height=170,
            x_title="epoch",
        )
        gr.Markdown("**Loss and early stopping**")
        with gr.Row():
            control("loss", min_width=160)
            control("label_smoothing", visible="label_smoothing" not in hidden, min_width=120)
        loss_note = gr.Markdown(LOSS_NOTES[defaults.loss])
        with gr.Row():
            control("early_stopping", min_width=160)
            control("patience", visible="patience" not in hidden, min_width=120)
        gr.Markdown("**Data preprocessing**")
        control("normalize")
        label, info = LABELS["augment"]
        c["augment"] = CheckboxGroup(CHOICE_LABELS["augment"], value=list(defaults.augment), label=label, info=info)
        gallery = gr.Gallery(
            label=f"Augmentation preview: training images as model {name} sees them, with their labels",
            columns=4, height=300, elem_classes="cnn-augment", allow_preview=False,
        )  # fmt: skip
        redraw = gr.Button("Preview augmentation", size="sm")

    inputs = [c[f] for f in TRAIN_FIELDS]
    for setting in ("optimizer", "schedule", "loss", "early_stopping"):
        dependents = [f for f, (s, _) in USED_WHEN.items() if s == setting]
        c[setting].change(
            lambda value, dependents=dependents: {
                c[f]: gr.update(visible=isinstance(value, str) and value in USED_WHEN[f][1]) for f in dependents
            },
            c[setting],
            [c[f] for f in dependents],
            api_name=False,
            show_progress="hidden",
        )
    c["loss"].change(LOSS_NOTES.get, c["loss"], loss_note, api_name=False, show_progress="hidden")
    c["optimizer"].input(
        typical_settings,
        c["optimizer"],
        [c["learning_rate"], c["momentum"], c["weight_decay"]],
        api_name=False,
        show_progress="hidden",
    )
    for trigger in [
        c[f]
        for f in (
            "schedule",
            "learning_rate",
            "epochs",
            "batch_size",
            "warmup_epochs",
            "gamma",
            "decay_every",
            "optimizer",
            "momentum",
            "beta1",
        )
    ] + [train_images]:
        trigger.change(schedule_frame, [train_images, *inputs], preview, api_name=False, show_progress="hidden")
    return c, gallery, redraw
