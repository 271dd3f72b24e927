"""What a run looks like to a person: curves, progress lines, logs, result grids.

Plain data in, plain data out (DataFrames, strings, HTML), so the UI layer
only places them and the formatting can be tested without a browser.
"""

from __future__ import annotations

import base64
import html
import io
import math
import time
from collections import deque
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import pandas as pd
from PIL import Image
from tqdm import tqdm

from cnn_lab.core.config import ConfigError
from cnn_lab.core.errors import quoted
from cnn_lab.core.events import (
    BestEpochRestored,
    CoresShared,
    CrossValidationFinished,
    EvalEvent,
    FoldFinished,
    GradientEvent,
    ModelFailed,
    ModelResult,
    RunFinished,
    RunStarted,
    Scoring,
    StepEvent,
)
from cnn_lab.data.pictures import displayable
from cnn_lab.engine.contenders import Contender
from cnn_lab.engine.learning_watch import LearningAlert
from cnn_lab.engine.limits import TRAINING_FLOPS_PER_FORWARD
from cnn_lab.engine.models import ModelSummary

MAX_POINTS = 300  # per model and curve: enough for a smooth line, cheap to send
SMOOTHING = 0.9  # the progress line's moving average of the per-step loss
CHART_SMOOTHING = 0.6  # the loss chart's default: TensorBoard's, over the points drawn
MAX_CHART_SMOOTHING = 0.99
X_AXES = {"images": "images seen", "steps": "steps", "epochs": "epochs", "seconds": "seconds of training"}
CURVES = (
    "A loss",
    "B loss",
    "A train",
    "A test",
    "A validation",
    "B train",
    "B test",
    "B validation",
)  # to show or hide
LOG_LINES = 200
TRAIN_WINDOW_STEPS = 16  # a train-accuracy point is the mean of at least this many latest batches (1,000 images at 64)
ACCURACY_FOCUS = 90.0  # percent: the fitted accuracy chart's lower edge while every point shown is above it


class Point(NamedTuple):
    """One point of a curve, with every x it can be drawn against (steps and seconds over the model's whole history,
    across continued runs)."""

    images: int
    value: float
    series: str
    steps: int = 0
    epochs: float = 0.0
    seconds: float = 0.0

    def x(self, axis: str) -> float:
        return getattr(self, axis)


@dataclass(frozen=True)
class ChartOptions:
    """How the page draws the live curves; one person's choice, kept in their session."""

    x_axis: str = "images"  # a key of X_AXES
    smoothing: float = CHART_SMOOTHING  # 0 draws the raw loss; towards 1, a longer moving average
    log_loss: bool = False
    hidden: frozenset[str] = frozenset()  # curves not drawn, by series name ("A loss", "B test", ...)

    def __post_init__(self) -> None:
        if self.x_axis not in X_AXES:
            raise ConfigError(f"x axis must be one of {', '.join(X_AXES)}, got {quoted(self.x_axis)}", "x axis")
        if not isinstance(self.smoothing, int | float) or not 0 <= self.smoothing <= MAX_CHART_SMOOTHING:
            raise ConfigError(
                f"smoothing must be from 0 to {MAX_CHART_SMOOTHING}, got {quoted(self.smoothing)}", "smoothing"
            )


@dataclass
class ModelTrace:
    """The visible history of one model in a run."""

    total_steps: int = 0
    step: int = 0
    loss_ema: float | None = None
    last: StepEvent | None = None
    started: float = field(default_factory=time.perf_counter)
    log: list[str] = field(default_factory=list)
    steps_before: int = 0  # over earlier runs (a continued run's steps go on from there)
    seconds_before: float = 0.0
    loss_sum: float = 0.0  # of the steps since the last point drawn: a point is their mean, nothing skipped
    loss_count: int = 0
    hits: deque[float] = field(default_factory=deque)  # the latest batches' accuracies: the train curve's window
    at: Point = Point(0, math.nan, "")  # where the model is now, on every axis
    batch: int = 0  # images of its latest step (from images_seen): what one step trains
    scored_at: int = -1  # the step of its latest evaluation (at the last step: the run's final scoring is done)


def smoothed(values: list[float], strength: float) -> list[float]:
    """TensorBoard's debiased exponential moving average (the first point is itself); NaN points pass through."""
    out, average, weight = [], 0.0, 0.0
    for value in values:
        if math.isnan(value):
            out.append(value)
            continue
        average = strength * average + (1 - strength) * value
        weight = strength * weight + (1 - strength)
        out.append(average / weight)
    return out


LOSS_COLORS = {"A": "#2563eb", "B": "#ea580c"}
ACCURACY_COLORS = {
    "A train": "#93c5fd", "A test": "#1d4ed8", "A validation": "#0891b2", "A early stop": "#6d28d9",
    "B train": "#fdba74", "B test": "#c2410c", "B validation": "#ca8a04", "B early stop": "#be185d",
}  # fmt: skip
STOP_SERIES = "early stop"  # a vertical line where a model stopped early


def accuracy_series(names: list[str], validation: bool = False, early_stopping: tuple[str, ...] = ()) -> list[str]:
    """The accuracy chart's series: train and test per model, validation with a split, a stop marker for models that may stop early."""
    kinds = ("train", "test", "validation") if validation else ("train", "test")
    return [f"{name} {kind}" for name in names for kind in kinds] + [f"{name} {STOP_SERIES}" for name in early_stopping]


class RunView:
    """Folds trainer events into what the page shows; the same object serves the UI and its tests."""

    def __init__(self, names: list[str], validation: bool = False, early_stopping: tuple[str, ...] = ()):
        self.names = names
        self.traces = {name: ModelTrace() for name in names}
        # One empty (NaN) point per series up front: Gradio's LinePlot fixes its colour legend
        # from the first data it draws, so a series that starts later would never show.
        # Loss points are the raw mean loss since the point before; the charts smooth them as the person chose.
        self.loss_rows: list[Point] = [Point(0, math.nan, name) for name in names]
        self.learning_rate_rows: list[Point] = [Point(0, math.nan, name) for name in names]
        self.accuracy_rows: list[Point] = [
            Point(0, math.nan, s) for s in accuracy_series(names, validation, early_stopping)
        ]
        self.epoch_images = 0  # images per epoch of the latest run: the epochs axis
        self.gradients: dict[str, list[GradientEvent]] = {name: [] for name in names}  # sampled steps, for Inspect
        self.evaluations: list[EvalEvent] = []  # every evaluation of every run, for the run history
        self.early_stops: dict[str, BestEpochRestored] = {}  # drawn on the chart for good
        self.restored_this_run: list[BestEpochRestored] = []  # told in the status line
        self.not_learning: dict[str, LearningAlert] = {}  # models not learning right now, told in the status line
        self.status = "Starting..."
        self.started_info: RunStarted | None = None
        self.finished: RunFinished | None = None
        self.started = self.run_started = time.perf_counter()
        self.limit_note: str | None = None  # why the server stopped the run (its wall-clock limit), if it did
        self.scoring: Scoring | None = None  # a whole test split being scored now (no step shows meanwhile)

    def add(self, event) -> None:
        if isinstance(event, RunStarted):
            self._add_start(event)
        elif isinstance(event, StepEvent):
            self._add_step(event)
        elif isinstance(event, Scoring):
            self.scoring = event
        elif isinstance(event, EvalEvent):
            self._add_evaluation(event)
        elif isinstance(event, GradientEvent):
            self.gradients[event.model].append(event)
        elif isinstance(event, BestEpochRestored):
            if event.stopped_early:
                self.early_stops[event.model] = event
            self.restored_this_run.append(event)
            self._log(event.model, event.message)
        elif isinstance(event, LearningAlert):
            if event.learning:
                self.not_learning.pop(event.model, None)
            else:
                self.not_learning[event.model] = event
            self._log(event.model, event.message if event.learning else f"WARNING: {event.message}")
        elif isinstance(event, ModelFailed):
            self._log(event.model, f"FAILED: {event.message}")
        elif isinstance(event, CoresShared):
            self.tell(
                f"took turns on the CPU's cores with other runs: waited {event.waited_s:.1f} s in all (it trained "
                "on all of them in its turns, so its numbers are those it gets alone)"
            )
        elif isinstance(event, RunFinished):
            self._add_finish(event)

    def _add_start(self, event: RunStarted) -> None:
        """A run starts (also a continued one: the curves go on, the progress bars start again)."""
        self.started_info, self.finished, self.restored_this_run, self.not_learning = event, None, [], {}
        self.run_started = time.perf_counter()
        self.limit_note = None
        self.epoch_images = event.train_size
        for name, total in event.total_steps.items():
            trace = self.traces[name]
            trace.total_steps, trace.step, trace.started, trace.scored_at = total, 0, time.perf_counter(), -1
            trace.steps_before, trace.seconds_before = trace.at.steps, trace.at.seconds
            trace.loss_sum, trace.loss_count = 0.0, 0
            trace.hits.clear()
            self._log(name, f"{total} steps on {event.data_source}; {event.device}, {event.precision}")

    def _add_evaluation(self, event: EvalEvent) -> None:
        """A model scored: its accuracy points (test, validation) and a line in its log."""
        self.scoring = None
        self.evaluations.append(event)
        self.traces[event.model].scored_at = self.traces[event.model].step
        scores = []
        for kind, loss, accuracy in (
            ("test", event.test_loss, event.test_accuracy),
            ("validation", event.validation_loss, event.validation_accuracy),
        ):
            if accuracy is not None:
                self.accuracy_rows.append(
                    self._point(event.model, accuracy * 100, f"{event.model} {kind}", event.images_seen)
                )
                part = self.test_part(event.test_images) if kind == "test" else ""
                scores.append(f"{kind} accuracy {accuracy:.2%}{part}, {kind} loss {loss:.4f}")
        self._log(event.model, f"epoch {event.epoch}: {'; '.join(scores)}")

    def _add_finish(self, event: RunFinished) -> None:
        """The run ended: each model's last line says how, after how many steps, how fast and how accurate."""
        self.finished, self.scoring = event, None
        for name, result in event.results.items():
            acc = (
                f", test accuracy {result.test_accuracy:.2%}{self.test_part(result.test_images)}"
                if result.test_accuracy is not None
                else ""
            )
            if result.unscored_steps:
                acc += f" (as of {result.unscored_steps} steps before the stop: scoring it again would have held the stop up)"
            if result.not_learning:
                self._log(name, f"WARNING: {result.not_learning}")
            self._log(
                name,
                f"{result.status} after {result.steps} steps in {result.train_time_s:.1f} s ({result.images_per_s:,.0f} images/s){acc}",
            )

    def test_part(self, scored: int) -> str:
        """For a score of part of the test split, the words that say so (" (on 2,000 of the 10,000 test images)")."""
        whole = self.started_info.test_size if self.started_info else 0
        return f" (on {scored:,} of the {whole:,} test images)" if 0 < scored < whole else ""

    def truncate(self, name: str, images_seen: int) -> None:
        """Forget a model's curves after `images_seen` (it was rolled back there); its log keeps the history."""

        def keep(rows: list[Point], series) -> list[Point]:
            return [row for row in rows if row.images <= images_seen or not series(row.series)]

        self.loss_rows = keep(self.loss_rows, lambda s: s == name)
        self.learning_rate_rows = keep(self.learning_rate_rows, lambda s: s == name)
        self.accuracy_rows = keep(self.accuracy_rows, lambda s: s.split()[0] == name)
        kept = [row for row in self.accuracy_rows + self.loss_rows if row.series.split()[0] == name]
        self.traces[name].at = max(kept, key=lambda row: row.images, default=Point(0, math.nan, ""))
        self.gradients[name] = [e for e in self.gradients[name] if e.images_seen <= images_seen]
        if name in self.early_stops and self.early_stops[name].images_seen > images_seen:
            del self.early_stops[name]

    def tell(self, line: str) -> None:
        """A line about the whole run, in every model's log."""
        for name in self.names:
            self._log(name, line)

    def _log(self, name: str, line: str) -> None:
        log = self.traces[name].log
        log.append(f"[{time.perf_counter() - self.started:6.1f}s] {line}")
        del log[:-LOG_LINES]

    def _add_step(self, event: StepEvent) -> None:
        trace = self.traces[event.model]
        if trace.last is not None and event.images_seen > trace.last.images_seen:
            trace.batch = event.images_seen - trace.last.images_seen
        trace.step, trace.last = event.step, event
        trace.loss_ema = (
            event.loss if trace.loss_ema is None else SMOOTHING * trace.loss_ema + (1 - SMOOTHING) * event.loss
        )
        epochs = event.images_seen / self.epoch_images if self.epoch_images else 0.0
        seconds = trace.seconds_before + event.train_time_s
        trace.at = Point(event.images_seen, math.nan, "", trace.steps_before + event.step, epochs, seconds)
        if math.isfinite(event.loss):
            trace.loss_sum, trace.loss_count = trace.loss_sum + event.loss, trace.loss_count + 1
        every = max(1, event.total_steps // MAX_POINTS)
        if math.isfinite(event.batch_accuracy):
            trace.hits.append(event.batch_accuracy)
            while len(trace.hits) > max(every, TRAIN_WINDOW_STEPS):
                trace.hits.popleft()
        if event.step % every == 0 or event.step == event.total_steps:
            mean = trace.loss_sum / trace.loss_count if trace.loss_count else event.loss
            # the train curve: the latest batches' accuracy (the epoch's running average lags far behind a model
            # that is still learning, and sat tens of points under the test curve; one batch alone is noise)
            hits = sum(trace.hits) / len(trace.hits) if trace.hits else event.accuracy
            trace.loss_sum, trace.loss_count = 0.0, 0
            self.loss_rows.append(self._point(event.model, mean, event.model))
            self.learning_rate_rows.append(self._point(event.model, event.learning_rate, event.model))
            self.accuracy_rows.append(self._point(event.model, hits * 100, f"{event.model} train"))
        log_every = max(1, event.total_steps // 20)
        if event.step % log_every == 0:
            self._log(
                event.model,
                f"epoch {event.epoch} step {event.step}/{event.total_steps}: loss {event.loss:.4f}, train accuracy {event.accuracy:.2%}, learning rate {event.learning_rate:.3g}, {event.images_per_s:,.0f} images/s",
            )

    def _point(self, model: str, value: float, series: str, images: int | None = None) -> Point:
        """A point where the model is now (on every axis), or at ``images`` seen (an evaluation's own count)."""
        at = self.traces[model].at
        return at._replace(value=value, series=series, images=at.images if images is None else images)

    # ------------------------------------------------------------ outputs

    def loss_points(self, smoothing: float = CHART_SMOOTHING) -> list[Point]:
        """Every loss point, each model's curve smoothed with ``smoothing`` (0: the raw means)."""
        out = []
        for name in self.names:
            rows = [row for row in self.loss_rows if row.series == name]
            out += [row._replace(value=v) for row, v in zip(rows, smoothed([r.value for r in rows], smoothing))]
        return out

    def loss_frame(self, options: ChartOptions = ChartOptions()) -> pd.DataFrame:
        """The loss chart's data as the person chose to see it: smoothed, on a log scale (log10), curves hidden."""
        points = self.loss_points(options.smoothing)
        if options.log_loss:
            points = [
                p._replace(value=math.log10(max(p.value, 1e-12)) if p.value == p.value else p.value) for p in points
            ]
        points = _shown(points, {name for name in self.names if f"{name} loss" in options.hidden})
        return _curve_frame(points, options.x_axis, ["loss", "model"])

    def accuracy_frame(self, options: ChartOptions = ChartOptions()) -> pd.DataFrame:
        """Every accuracy curve not hidden, plus a vertical line across the visible range where a model stopped early."""
        floor = self.accuracy_floor(options.hidden)
        stops = [
            self._stop_point(name, stop.images_seen)._replace(value=y, series=f"{name} {STOP_SERIES}")
            for name, stop in self.early_stops.items()
            for y in (floor, 100.0)
        ]
        return _curve_frame(_shown(self.accuracy_rows + stops, options.hidden), options.x_axis, ["accuracy", "curve"])

    def learning_rate_frame(self, name: str, options: ChartOptions = ChartOptions()) -> pd.DataFrame:
        rows = [row for row in self.learning_rate_rows if row.series == name]
        return _curve_frame(rows, options.x_axis, ["learning rate", "model"])

    def chart_csv(self, options: ChartOptions = ChartOptions()) -> str:
        """Every curve's points with all their axes (the loss raw and as smoothed on the page), as CSV."""
        smooth = {(p.series, p.images): p.value for p in self.loss_points(options.smoothing)}
        rows = [
            ("loss", p.series, p.images, p.steps, p.epochs, p.seconds, p.value, smooth[p.series, p.images])
            for p in self.loss_rows
        ]
        rows += [
            ("accuracy %", p.series, p.images, p.steps, p.epochs, p.seconds, p.value, None) for p in self.accuracy_rows
        ]
        rows += [
            ("learning rate", p.series, p.images, p.steps, p.epochs, p.seconds, p.value, None)
            for p in self.learning_rate_rows
        ]
        frame = pd.DataFrame(
            rows, columns=["chart", "curve", "images", "steps", "epochs", "seconds", "value", "smoothed"]
        )
        return frame.dropna(subset=["value"]).to_csv(index=False, float_format="%.6g")

    def _stop_point(self, name: str, images_seen: int) -> Point:
        """Where a model stopped early, on every axis: its last point at or before that many images."""
        before = [row for row in self.accuracy_rows if row.series.split()[0] == name and row.images <= images_seen]
        return max(before, key=lambda row: row.images, default=Point(0, math.nan, ""))._replace(images=images_seen)

    def progress_text(self) -> str:
        return "\n".join(self.progress_line(name) for name in self.names)

    def progress_line(self, name: str) -> str:
        trace = self.traces[name]
        elapsed = time.perf_counter() - trace.started
        rate = trace.step / elapsed if trace.last and elapsed > 0 else None
        left = self.seconds_left(name, elapsed)
        return tqdm.format_meter(
            trace.step,
            trace.total_steps or None,
            elapsed,
            prefix=f"Model {name}",
            postfix=f"loss={trace.loss_ema:.3f}" if trace.loss_ema is not None else None,
            bar_format="{l_bar}{bar:10}| {n_fmt}/{total_fmt} [{elapsed}<{left}, {rate_fmt}{postfix}]",
            rate=rate,
            left="?" if left is None else tqdm.format_interval(left),
        )

    def seconds_left(self, name: str, elapsed: float) -> float | None:
        """Seconds until the model is done: its steps left and the whole test (and validation) splits still to score
        at each epoch end left, at the pace of this run so far (the steps' share of the cores, the scorings within
        epochs). A step count alone says 0 s while the last scoring, a sixth of a default run, still runs; scoring an
        image costs about a third of training on it (a forward pass against forward and backward)."""
        trace, info = self.traces[name], self.started_info
        if trace.last is None or trace.step <= 0 or info is None or elapsed <= 0 or self.finished is not None:
            return None  # no pace yet (a continued run's trace starts over at its first step)
        batch = trace.batch or max(1, info.train_size // max(1, trace.total_steps))  # after one step: a guess
        steps_per_epoch = max(1, math.ceil(info.train_size / batch))
        steps_left = trace.total_steps - trace.step
        scorings_left = math.ceil(steps_left / steps_per_epoch) if steps_left else int(trace.scored_at < trace.step)
        scored = info.test_size + info.validation_size
        step_equivalents = steps_left + scorings_left * scored / (TRAINING_FLOPS_PER_FORWARD * batch)
        return step_equivalents * elapsed / trace.step

    def accuracy_floor(self, hidden: frozenset[str] = frozenset()) -> float:
        """Lower edge of the fitted accuracy chart: every point of every curve shown stays in view (hide the train
        curves to zoom on the test points), 90% when they are all up there."""
        drawn = [
            p.value
            for p in self.accuracy_rows
            if p.value == p.value and p.series not in hidden and not p.series.endswith(STOP_SERIES)
        ]
        lowest = min(drawn, default=100.0)
        return ACCURACY_FOCUS if lowest >= ACCURACY_FOCUS else math.floor(lowest / 10) * 10.0

    def log_text(self, name: str) -> str:
        """Newest line first: Gradio 6.31's Textbox autoscroll does not follow streamed text."""
        return "\n".join(reversed(self.traces[name].log))

    def status_text(self) -> str:
        info = self.started_info
        # this run's own time (a continued run starts from 0), frozen at its end
        elapsed = self.finished.elapsed_s if self.finished else time.perf_counter() - self.run_started
        if info is None:
            return "Loading data..."
        state = (
            "Training"
            if self.finished is None
            else {"finished": "Finished", "stopped": "Stopped"}[self.finished.reason]
        )
        stops = "".join(
            f" · {r.model} {'stopped early after' if r.stopped_early else 'trained to'} epoch {r.epoch}, epoch {r.best_epoch} kept (see its log)"
            for r in self.restored_this_run
        )
        said = [r.not_learning for r in self.finished.results.values() if r.not_learning] if self.finished else None
        alerts = "".join(f" · ⚠ {message}" for message in (said or [a.message for a in self.not_learning.values()]))
        alerts += f" · ⏱ {self.limit_note}" if self.limit_note else ""
        if self.scoring is not None and self.finished is None:
            alerts += f" · scoring model {self.scoring.model} on all {self.scoring.images:,} test images..."
        return f"**{state}** · {info.data_source} · {info.device} · {info.precision}{stops} · {elapsed:.1f} s{alerts}"


def _shown(points: list[Point], hidden: set[str] | frozenset[str]) -> list[Point]:
    """The points of the curves shown; a hidden curve keeps its empty first point, so its colour and legend stay."""
    return [p for p in points if p.series not in hidden or p.value != p.value]


def _curve_frame(points: list[Point], axis: str, columns: list[str]) -> pd.DataFrame:
    """(x on ``axis``, value, series) rows, typed even when empty: the browser fixes each axis' type (number or
    category) from the first frame it gets. The x column keeps its name on every axis (the chart's x title says
    which): a chart told a new column and new data at once drew the new numbers as categories."""
    return pd.DataFrame(
        {
            "x": pd.array([p.x(axis) for p in points], dtype="float64"),
            columns[0]: pd.array([p.value for p in points], dtype="float64"),
            columns[1]: pd.Series([p.series for p in points], dtype="str"),
        }
    )  # built by column: a third of the time of rows and astype, a cost every page update pays four times


def flops_text(flops: float) -> str:
    """A FLOP count a person reads at a glance: 7,850 (a linear model once showed as "0.0 M"), 1.2 M, 350 M."""
    return f"{flops / 1e6:.1f} M" if flops >= 100_000 else f"{flops:,.0f}"


def summary_frame(results: dict[str, ModelResult], summaries: dict[str, ModelSummary]) -> pd.DataFrame:
    """Side-by-side numbers of the finished models."""
    rows = {
        "test accuracy": lambda r, s: f"{r.test_accuracy:.2%}" if r.test_accuracy is not None else "not evaluated",
        "validation accuracy": lambda r, s: (
            f"{r.validation_accuracy:.2%}" if r.validation_accuracy is not None else "no validation split"
        ),
        "status": lambda r, s: r.status,
        "learning": lambda r, s: "yes" if r.not_learning is None else f"NO: {r.not_learning}",
        "epochs trained": lambda r, s: str(r.epochs_done),
        "parameters": lambda r, s: f"{s.params:,}",
        "forward FLOPs / image": lambda r, s: flops_text(s.flops),
        "training time": lambda r, s: f"{r.train_time_s:.1f} s",
        "images / s": lambda r, s: f"{r.images_per_s:,.0f}",
    }
    data = {"": list(rows)}
    for name, result in results.items():
        data[f"Model {name}"] = [fmt(result, summaries[name]) for fmt in rows.values()]
    return pd.DataFrame(data)


def image_data_uri(image: np.ndarray) -> str:
    buffer = io.BytesIO()
    Image.fromarray(displayable(image)).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def image_grid_html(images: np.ndarray, captions: list[str]) -> str:
    """Images as a grid of small cards, each with its caption (e.g. its class)."""
    cards = [
        f'<div class="cnn-card"><img src="{image_data_uri(image)}" alt="{html.escape(caption)}"><div class="cnn-truth">{html.escape(caption)}</div></div>'
        for image, caption in zip(images, captions, strict=True)
    ]
    return f'<div class="cnn-grid">{"".join(cards)}</div>'


RESULTS_CSS = """
.cnn-grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(118px, 1fr)); gap: 8px; }
.cnn-card { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 6px; text-align: center; font-size: 13px; }
.cnn-card img { width: 84px; height: 84px; image-rendering: pixelated; display: block; margin: 0 auto 4px; }
.cnn-truth { color: var(--body-text-color-subdued); }
.cnn-guess { border-radius: 4px; margin-top: 3px; padding: 1px 4px; font-weight: 600; color: #fff; }
.cnn-right { background: #15803d; }
.cnn-wrong { background: #b91c1c; }
"""  # the results grid's look, on the page and in reports


def results_html(
    images: np.ndarray, labels: np.ndarray, probabilities: dict[str, np.ndarray], class_names: tuple[str, ...]
) -> str:
    """A grid of test images, each with every model's guess and confidence, green when right and red when wrong."""
    cards = []
    for i, image in enumerate(images):
        truth = int(labels[i])
        guesses = []
        for name, probs in probabilities.items():
            guess = int(probs[i].argmax())
            verdict = "right" if guess == truth else "wrong"
            guesses.append(
                f'<div class="cnn-guess cnn-{verdict}" title="Model {name}: {verdict}">'
                f"{name}: {html.escape(class_names[guess])} {probs[i, guess]:.0%}</div>"
            )
        cards.append(
            f'<div class="cnn-card"><img src="{image_data_uri(image)}" alt="test image of {html.escape(class_names[truth])}">'
            f'<div class="cnn-truth">true: {html.escape(class_names[truth])}</div>{"".join(guesses)}</div>'
        )
    return f'<div class="cnn-grid">{"".join(cards)}</div>'


def checkpoint_frame(contenders: dict[str, Contender]) -> pd.DataFrame:
    """The epochs each model can be rolled back to, with their scores then; the current one marked."""
    rows = []
    for name, c in contenders.items():
        for epoch, saved in sorted(c.checkpoints.items()):
            rows.append(
                {
                    "model": name,
                    "epoch": epoch,
                    "images seen": f"{saved.images_seen:,}",
                    "test accuracy": f"{saved.test_accuracy:.2%}" if saved.test_accuracy is not None else "-",
                    "validation accuracy": f"{saved.validation_accuracy:.2%}"
                    if saved.validation_accuracy is not None
                    else "-",
                    "now": "◀ current" if epoch == c.epochs_done and saved.images_seen == c.images_seen else "",
                }
            )
    return pd.DataFrame(rows, columns=["model", "epoch", "images seen", "test accuracy", "validation accuracy", "now"])


class CrossValidationView:
    """Folds cross-validation events into a status line and a table of folds."""

    COLUMNS = ["fold", "validation accuracy", "validation loss", "training time"]

    def __init__(self, header: str, folds: int):
        self.header, self.folds = header, folds
        self.rows: list[list[str]] = []
        self.state = "starting..."
        self.failure = ""

    def add(self, event) -> None:
        if isinstance(event, StepEvent):
            self.state = (
                f"fold {len(self.rows) + 1} of {self.folds}, epoch {event.epoch}, step {event.step}/{event.total_steps}"
            )
        elif isinstance(event, ModelFailed):
            self.failure = event.message
        elif isinstance(event, FoldFinished):
            self.rows.append(
                [
                    f"{event.fold} of {event.folds}",
                    f"{event.validation_accuracy:.2%}",
                    f"{event.validation_loss:.4f}",
                    f"{event.train_time_s:.1f} s",
                ]
            )
            self.state = f"fold {event.fold} of {event.folds} done."
        elif isinstance(event, CrossValidationFinished):
            done = len(event.validation_accuracies)
            verdict = {"finished": "finished", "stopped": f"stopped after {done} of {self.folds} folds"}.get(
                event.reason, f"fold {done + 1} failed ({self.failure})"
            )
            spread = f" ± {event.std:.2%} (sample std over folds)" if done > 1 else ""
            result = f"mean validation accuracy **{event.mean:.2%}**{spread}" if done else "no fold finished"
            self.state = f"{verdict} in {event.elapsed_s:.0f} s; {result}."

    def note(self) -> str:
        return f"{self.header}: {self.state}"

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=self.COLUMNS)


def duration_text(seconds: float) -> str:
    """A duration as a person says it: 45 s, 12.5 min, 3 h 20 min, 4 days 2 h."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.1f} min"
    hours = round(seconds / 3600 * 6) / 6  # to 10 minutes
    if hours < 48:
        whole, minutes = divmod(round(hours * 60), 60)
        return f"{whole} h {minutes} min" if minutes else f"{whole} h"
    days, rest = divmod(round(hours), 24)
    return f"{days} days {rest} h" if rest else f"{days} days"
