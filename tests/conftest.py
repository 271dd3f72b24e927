"""Shared fixtures: real MNIST from CNN_LAB_DATA (or the shipped sample), never a download."""

from __future__ import annotations

import os
from dataclasses import replace

import pytest

os.environ.setdefault("CNN_LAB_OFFLINE", "1")  # a test must never reach for the network
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
if os.environ.get("CNN_LAB_DATA") and not os.path.isdir(
    os.environ["CNN_LAB_DATA"]
):  # a clone without ../shared beside it
    print(f"CNN_LAB_DATA={os.environ.pop('CNN_LAB_DATA')} is not a folder: testing on the shipped MNIST sample")

from cnn_lab.contenders import create_contenders
from cnn_lab.data import load_dataset
from cnn_lab.presets import default_experiment
from cnn_lab.training import train_models


@pytest.fixture(scope="session")
def mnist():
    """Full MNIST when CNN_LAB_DATA points at it, otherwise the shipped offline sample."""
    return load_dataset("mnist")


@pytest.fixture(scope="session")
def default_pair(mnist):
    """The page's default pair (presets.default_experiment) after one epoch on 10,000 training images, shared by the
    tests that read drawings with it."""
    setup = default_experiment()
    run = replace(setup.run, train_subset=10_000, evals_per_epoch=1)
    contenders = create_contenders({"A": setup.a, "B": setup.b}, run)
    for _ in train_models(contenders, run, mnist):
        pass
    return {c.name: c for c in contenders}
