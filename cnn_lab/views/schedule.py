"""The learning rate over a whole run, as the page previews it beside a model's training settings."""

from __future__ import annotations

import math

import pandas as pd

from cnn_lab.core.config import TrainConfig
from cnn_lab.engine.optim import schedule_curve


def schedule_table(train: TrainConfig | None, train_images: int) -> pd.DataFrame:
    """(epoch, learning rate) along a run of ``train_images`` images an epoch, stepped through the torch scheduler
    training uses; empty for None (a setting is invalid)."""
    if train is None:
        return pd.DataFrame({"epoch": pd.Series(dtype="float64"), "learning rate": pd.Series(dtype="float64")})
    points = schedule_curve(train, math.ceil(max(train_images, 1) / train.batch_size))
    return pd.DataFrame(points, columns=["epoch", "learning rate"])
