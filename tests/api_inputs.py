"""A page's API inputs in the page's order, as gradio_client sends them (shared by the end-to-end tests)."""

from __future__ import annotations

import numpy as np
from gradio_client import handle_file
from PIL import Image

from cnn_lab.core.config import DEFAULT_AUGMENTATIONS, TrainConfig
from cnn_lab.ui.parts.fields import COLUMN_FIELDS, TRAIN_FIELDS, train_values

MODEL_FIELDS = len(COLUMN_FIELDS)
# outputs of /train (and /continue_training) as the client sees them (gr.State is not sent)
STATUS, PROGRESS, LOSS, ACCURACY, LOG_A, LOG_B, RESULTS, SUMMARY, LEARNING_RATE_A, LEARNING_RATE_B, CHECKPOINTS = range(
    11
)


def column(
    channels,
    optimizer,
    learning_rate,
    batch_size,
    epochs,
    augment=False,
    preset="custom",
    schedule="constant",
    layers="[]",
    **train,
):
    """One model column's API inputs, in the page's order; other training settings keep the optimizer's usual values."""
    values = dict(zip(TRAIN_FIELDS, train_values(TrainConfig(optimizer))))
    augment = list(DEFAULT_AUGMENTATIONS) if augment is True else list(augment or [])
    values.update(
        optimizer=optimizer,
        learning_rate=learning_rate,
        batch_size=batch_size,
        epochs=epochs,
        schedule=schedule,
        augment=augment,
        **train,
    )
    return [preset, channels, layers, *values.values()]


def run_values(
    subset=4000, evals=2, dataset="mnist", seed=0, device="auto", precision="auto", validation=0, identical_init=True
):
    """The shared run settings, in the page's order."""
    return [dataset, subset, seed, device, precision, evals, validation, identical_init]


def settings(
    a=("16,32,64,64", "adam", 0.001, 64, 1, False),
    b=("8,16,32,32", "adam", 0.002, 64, 1, False),
    subset=4000,
    epochs_evals=2,
    **run,
):
    return [*column(*a), *column(*b), *run_values(subset, epochs_evals, **run), False]


def sketch_of(image: np.ndarray, tmp_path, name="digit.png") -> dict:
    path = tmp_path / name
    Image.fromarray(image).save(path)
    return {"background": None, "layers": [], "composite": handle_file(str(path))}
