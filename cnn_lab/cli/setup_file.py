"""A setup file for `cnn-lab train`: read and checked with no torch loaded, so a bad one is refused at once."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from cnn_lab.core.config import ConfigError, ExperimentConfig, check_epochs
from cnn_lab.core.sharing import MAX_JSON_BYTES
from cnn_lab.core.strict_json import NotJSON


class SetupError(ValueError):
    """A setup file that cannot be trained: missing, not JSON, or a refused setting (the message names it)."""


def read_setup(path: str | Path, epochs: int | None = None, device: str | None = None) -> ExperimentConfig:
    """The setup in ``path`` (the page's *Export setup* JSON), with ``epochs`` for both models and ``device`` if
    given; SetupError names what is wrong."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_JSON_BYTES:  # the page's own cap on a setup file (an exported one is ~2 KB)
            raise SetupError(f"{path}: a setup file is at most {MAX_JSON_BYTES // 1024} KB")
        setup = ExperimentConfig.from_json(path.read_text(encoding="utf-8"))
        if epochs is not None:
            epochs = check_epochs(epochs, "--epochs")
            setup = replace(
                setup,
                a=replace(setup.a, train=replace(setup.a.train, epochs=epochs)),
                b=replace(setup.b, train=replace(setup.b.train, epochs=epochs)),
            )
        if device is not None:
            setup = replace(setup, run=replace(setup.run, device=device))
        return setup
    except OSError as err:
        raise SetupError(f"{path}: {err.strerror or err}") from None
    except UnicodeDecodeError:
        raise SetupError(
            f"{path}: not a text file (export a setup from the page: Share and reuse this setup)"
        ) from None
    except (ConfigError, NotJSON, ValueError) as err:
        raise SetupError(f"{path}: {err}") from None
