"""Which MNIST the suite trains on: the folder CNN_LAB_DATA names when it is there, otherwise the shipped sample.

Kept apart from conftest so tests/test_project.py can run the same choice against a missing folder."""

from __future__ import annotations

import os
from collections.abc import MutableMapping

DATA_ENV = "CNN_LAB_DATA"


def choose_test_data(environ: MutableMapping[str, str] = os.environ) -> str:
    """Drop a CNN_LAB_DATA that is not a folder (a clone without ../shared beside it), so every test reads the shipped
    sample instead of failing on a missing path; return the sentence the run starts with."""
    folder = environ.get(DATA_ENV)
    if folder and os.path.isdir(folder):
        return f"test data: the data folder {folder} ({DATA_ENV})"
    if folder:
        del environ[DATA_ENV]
        return f"test data: {DATA_ENV}={folder} is not a folder, so the shipped MNIST sample (offline)"
    return f"test data: the shipped MNIST sample ({DATA_ENV} is not set)"
