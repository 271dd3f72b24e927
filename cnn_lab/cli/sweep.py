"""`cnn-lab sweep GRID.json`: one setup trained over a grid (or a random draw) of values of some of its fields.

A grid file names a base setup (the page's *Export setup* JSON, inline or as a path next to the grid file) and the
values to try, by their path in that JSON:

    {"setup": "setup.json",
     "vary": {"a.train.learning_rate": [0.001, 0.003], "both.train.batch_size": [32, 64]},
     "search": "grid"}

("both." sets model A and model B alike; "search": "random" with "samples": N and "seed" draws N of the grid's
combinations instead). Every run is a run like the page's: checked whole before any starts, kept in the run
history, and compared in a report at the end.

Why a loop and not Optuna or Ray Tune: a grid or a random draw over listed values is itertools.product and
random.sample; Optuna earns its place with adaptive samplers and pruning (an objective reported during training),
Ray Tune with a cluster runtime of its own, and neither is what this asks for. Runs at the same time go to the
worker processes the playground already trains in (``jobs``), which split the cores between them.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from cnn_lab.cli.grid import Grid
from cnn_lab.core.config import ConfigError, ExperimentConfig
from cnn_lab.engine.limits import ServerLimits
from cnn_lab.runs.history import RunStore
from cnn_lab.session import NAMES, Session, SessionError, Workspace


@dataclass
class SweepRun:
    """One run of the sweep, as the comparison shows it."""

    number: int
    values: dict
    status: str = "waiting"
    run_id: int | None = None
    accuracies: dict[str, float | None] = field(default_factory=dict)
    images_per_s: dict[str, float] = field(default_factory=dict)
    duration_s: float = 0.0
    error: str | None = None


def sweep(
    grid: Grid,
    data_dir: str | None,
    runs: RunStore | None,
    jobs: int = 1,
    said: Callable[[SweepRun], None] = lambda run: None,
) -> list[SweepRun]:
    """Train every run of ``grid`` (``jobs`` at a time, each in a worker process when more than one; else on this
    thread) and return how each ended; ``said`` hears of each run as it ends. A failed run is noted and the rest go
    on."""
    workspace = Workspace(data_dir, grid.base.run.device, processes=jobs > 1, runs=runs, inline=jobs <= 1)
    workspace.limits = ServerLimits()  # your own machine: the settings' own limits, and nobody to ask
    unfolded = grid.setups()
    planned = [SweepRun(i + 1, values) for i, (values, _) in enumerate(unfolded)]
    setups = [setup for _, setup in unfolded]

    def train(run: SweepRun, setup: ExperimentConfig) -> SweepRun:
        session = Session(workspace)
        try:
            updates = session.training.train(setup)
            for _ in updates:
                pass
        except (SessionError, ConfigError) as err:
            run.status, run.error = "failed", str(err)
        else:
            finished = updates.result.finished
            run.status, run.run_id, run.duration_s = finished.reason, updates.result.run_id, finished.elapsed_s
            run.accuracies = {name: r.test_accuracy for name, r in finished.results.items()}
            run.images_per_s = {name: r.images_per_s for name, r in finished.results.items()}
        finally:
            session.close()
        said(run)
        return run

    try:
        if jobs <= 1:
            return [train(run, setup) for run, setup in zip(planned, setups)]
        with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="cnn_lab-sweep") as pool:
            return list(pool.map(train, planned, setups))
    finally:
        if workspace.workers is not None:
            workspace.workers.close()


def comparison_frame(grid: Grid, runs: list[SweepRun]) -> pd.DataFrame:
    """One row per run: its values, both models' test accuracy and speed, and where the history keeps it."""
    rows = []
    for run in runs:
        rows.append(
            {
                "sweep run": run.number,
                **{name: run.values[name] for name in grid.fields},
                **{f"{n} test": _percent(run.accuracies.get(n)) for n in NAMES},
                **{f"{n} images/s": f"{run.images_per_s[n]:,.0f}" if n in run.images_per_s else "" for n in NAMES},
                "time": f"{run.duration_s:.1f} s",
                "status": run.status if run.error is None else f"failed: {run.error[:120]}",
                "history": f"#{run.run_id}" if run.run_id is not None else "",
            }
        )
    return pd.DataFrame(rows)


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value:.2%}"


def best(runs: list[SweepRun]) -> Iterator[str]:
    """Which run did best for each model, in words."""
    for name in NAMES:
        scored = [r for r in runs if r.accuracies.get(name) is not None]
        if scored:
            top = max(scored, key=lambda r: r.accuracies[name])
            shown = ", ".join(f"{k} = {v}" for k, v in top.values.items())
            yield f"Model {name}: best {top.accuracies[name]:.2%} in sweep run {top.number} ({shown})"


def write_report(grid: Grid, runs: list[SweepRun], folder: Path) -> list[Path]:
    """The sweep's comparison as Markdown and as an HTML page, and every run's numbers as JSON."""
    folder.mkdir(parents=True, exist_ok=True)
    frame = comparison_frame(grid, runs)
    verdicts = list(best(runs))
    what = f"{len(runs)} runs ({grid.search} over {', '.join(grid.fields)})"
    markdown = "\n\n".join(["# cnn_lab sweep", what, *verdicts, frame.to_markdown(index=False)]) + "\n"
    items = "".join(f"<li>{html.escape(v)}</li>" for v in verdicts)
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>cnn_lab sweep</title>'
        "<style>body{font-family:sans-serif;margin:2em}td,th{padding:.2em .8em;text-align:left}</style></head>"
        f"<body><h1>cnn_lab sweep</h1><p>{html.escape(what)}</p><ul>{items}</ul>{frame.to_html(index=False, border=0)}</body></html>\n"
    )
    written = [folder / "sweep_report.md", folder / "sweep_report.html", folder / "sweep.json"]
    written[0].write_text(markdown, encoding="utf-8")
    written[1].write_text(page, encoding="utf-8")
    numbers = [
        {"sweep_run": r.number, "values": r.values, "status": r.status, "history_id": r.run_id,
         "test_accuracy": r.accuracies, "images_per_s": r.images_per_s, "duration_s": r.duration_s, "error": r.error}
        for r in runs
    ]  # fmt: skip
    written[2].write_text(json.dumps({"base": json.loads(grid.base.to_json()), "runs": numbers}, indent=2), "utf-8")
    return written
