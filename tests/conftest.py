"""Shared fixtures: real MNIST from CNN_LAB_DATA (or the shipped sample), never a download."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("CNN_LAB_OFFLINE", "1")  # a test must never reach for the network
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from cnn_lab.data import load_dataset


@pytest.fixture(scope="session")
def mnist():
    """Full MNIST when CNN_LAB_DATA points at it, otherwise the shipped offline sample."""
    return load_dataset("mnist")
