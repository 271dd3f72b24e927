"""A sweep's grid file: the base setup and the values to try, every run's setup checked before any trains.

Light on purpose (no torch, no session): `cnn-lab sweep` refuses a bad grid in a fraction of a second, before it
loads the engine (see cli/sweep.py for the file's format).
"""

from __future__ import annotations

import itertools
import json
import random
from dataclasses import dataclass
from pathlib import Path

from cnn_lab.core.config import ConfigError, ExperimentConfig
from cnn_lab.core.errors import quoted
from cnn_lab.core.strict_json import NotJSON, load_json

GRID_MAX_BYTES = 256 * 1024
MAX_RUNS = 1000  # a grid that asks for more is most likely a mistake; split it
SEARCHES = ("grid", "random")
TOP_LEVEL = ("a", "b", "both", "run")


class GridError(ValueError):
    """A grid file that cannot be swept; the message names the file and what is wrong."""


@dataclass(frozen=True)
class Grid:
    """The base setup and the runs to make of it: one dict of path -> value per run, in order."""

    base: ExperimentConfig
    fields: tuple[str, ...]
    runs: tuple[tuple, ...]  # each: one value per field
    search: str = "grid"

    def setups(self) -> list[tuple[dict, ExperimentConfig]]:
        return [
            (dict(zip(self.fields, values)), vary(self.base, dict(zip(self.fields, values)))) for values in self.runs
        ]


def vary(base: ExperimentConfig, values: dict[str, object]) -> ExperimentConfig:
    """``base`` with each path set to its value, checked as any setup is (ConfigError names the field)."""
    tree = json.loads(base.to_json())
    for path, value in values.items():
        head, *rest = path.split(".")
        for side in ("a", "b") if head == "both" else (head,):
            node = tree[side]
            for key in rest[:-1]:
                node = node[key]
            node[rest[-1]] = value
    return ExperimentConfig.from_json(json.dumps(tree))


def _check_path(base: ExperimentConfig, path: str, where: str) -> None:
    tree = json.loads(base.to_json())
    head, *rest = path.split(".")
    if head not in TOP_LEVEL or not rest:
        raise GridError(f"{where}: {quoted(path)} must start with one of {', '.join(f'{t}.' for t in TOP_LEVEL)}")
    node = tree["a" if head == "both" else head]
    for depth, key in enumerate(rest):
        if not isinstance(node, dict) or key not in node:
            known = ", ".join(sorted(node)) if isinstance(node, dict) else "none"
            at = ".".join([head, *rest[:depth]])
            raise GridError(f"{where}: {quoted(path)} is not a field of the setup (fields of {at}: {known})")
        node = node[key]


def read_grid(path: str | Path) -> Grid:
    """The grid in ``path``, every run's setup checked before any trains (GridError says what is wrong)."""
    path = Path(path)
    try:
        if path.stat().st_size > GRID_MAX_BYTES:
            raise GridError(f"{path}: a grid file is at most {GRID_MAX_BYTES // 1024} KB")
        grid = load_json(path.read_text(encoding="utf-8"), "grid", str(path))
    except OSError as err:
        raise GridError(f"{path}: {err.strerror or err}") from None
    except (ConfigError, UnicodeDecodeError) as err:  # not JSON, or JSON with values no grid holds (NaN, 1e400)
        raise GridError(str(err) if isinstance(err, ConfigError) else f"{path}: not a text file") from None
    if not isinstance(grid, dict) or not isinstance(grid.get("vary"), dict) or not grid["vary"]:
        raise GridError(f'{path}: a grid file is a JSON object with "setup" and "vary" (see docs/cli.md, Sweeps)')
    base = _base_setup(grid.get("setup"), path)
    search = grid.get("search", "grid")
    if search not in SEARCHES:
        raise GridError(f"{path}: search must be one of {', '.join(SEARCHES)}, got {quoted(search)}")
    fields = tuple(grid["vary"])
    for name in fields:
        _check_path(base, name, str(path))
        values = grid["vary"][name]
        if not isinstance(values, list) or not values:
            raise GridError(f"{path}: vary · {name} must be a non-empty list of values, got {quoted(values)}")
    combinations = list(itertools.product(*(grid["vary"][name] for name in fields)))
    if search == "random":
        samples, seed = grid.get("samples"), grid.get("seed", 0)
        if not isinstance(samples, int) or isinstance(samples, bool) or not 1 <= samples <= len(combinations):
            raise GridError(
                f"{path}: samples must be a whole number from 1 to {len(combinations)} (the grid's combinations), "
                f"got {quoted(samples)}"
            )
        combinations = random.Random(seed).sample(combinations, samples)
    if len(combinations) > MAX_RUNS:
        raise GridError(f"{path}: at most {MAX_RUNS} runs in one sweep, this grid makes {len(combinations):,}")
    swept = Grid(base, fields, tuple(combinations), search)
    for values in swept.runs:  # every run checked before the first one trains
        try:
            vary(base, dict(zip(fields, values)))
        except (ConfigError, NotJSON, ValueError) as err:
            shown = ", ".join(f"{k}={v!r}" for k, v in zip(fields, values))
            raise GridError(f"{path}: the run with {shown}: {err}") from None
    return swept


def _base_setup(setup: object, grid_path: Path) -> ExperimentConfig:
    try:
        if isinstance(setup, str):
            where = (grid_path.parent / setup).resolve()
            return ExperimentConfig.from_json(where.read_text(encoding="utf-8"))
        if isinstance(setup, dict):
            return ExperimentConfig.from_json(json.dumps(setup))
    except OSError as err:
        raise GridError(f"{grid_path}: setup {quoted(setup)}: {err.strerror or err}") from None
    except (ConfigError, NotJSON, ValueError) as err:
        raise GridError(f"{grid_path}: setup: {err}") from None
    raise GridError(f"{grid_path}: setup must be a setup's JSON object or the path of a setup file")
