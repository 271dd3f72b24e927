"""The page's words for every training setting: its label, what it does, and what each of its choices is called.

One table, read by the training controls, the Learn tab's table of settings and the Runs tab's comparisons."""

from __future__ import annotations

from cnn_lab.core.config import LIMITS

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
        ("mirror (photos)", "flip"),
        ("crop ±4 px (photos)", "crop"),
    ],
}


def field_label(field: str) -> str:
    """A setting as the page labels it ("Learning rate"), not its config name ("learning_rate")."""
    return LABELS[field][0] if field in LABELS else field.replace("_", " ").capitalize()


def choice_label(field: str, value: str) -> str:
    """What the page calls a choice's value ("SGD" for "sgd")."""
    return next(label for label, choice in CHOICE_LABELS[field] if choice == value)
