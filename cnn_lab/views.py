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
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from PIL import Image
from tqdm import tqdm

from .contenders import Contender
from .events import (
    BestEpochRestored,
    CrossValidationFinished,
    EvalEvent,
    FoldFinished,
    GradientEvent,
    ModelFailed,
    ModelResult,
    RunFinished,
    RunStarted,
    StepEvent,
)
from .learning_watch import LearningAlert
from .models import ModelSummary
from .pictures import displayable

MAX_POINTS = 300  # per model and curve: enough for a smooth line, cheap to send
SMOOTHING = 0.9  # exponential moving average of the loss, as TensorBoard does
LOG_LINES = 200
ACCURACY_FOCUS = 90.0  # percent: the accuracy chart's lower edge once a model gets there


@dataclass
class ModelTrace:
    """The visible history of one model in a run."""

    total_steps: int = 0
    step: int = 0
    loss_ema: float | None = None
    last: StepEvent | None = None
    started: float = field(default_factory=time.perf_counter)
    log: list[str] = field(default_factory=list)


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
        self.loss_rows: list[tuple[int, float, str]] = [(0, math.nan, name) for name in names]
        self.learning_rate_rows: list[tuple[int, float, str]] = [(0, math.nan, name) for name in names]
        self.accuracy_rows: list[tuple[int, float, str]] = [
            (0, math.nan, s) for s in accuracy_series(names, validation, early_stopping)
        ]
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

    def add(self, event) -> None:
        if isinstance(event, RunStarted):  # also a continued run: the curves go on, the progress bars start again
            self.started_info, self.finished, self.restored_this_run, self.not_learning = event, None, [], {}
            self.run_started = time.perf_counter()
            self.limit_note = None
            for name, total in event.total_steps.items():
                trace = self.traces[name]
                trace.total_steps, trace.step, trace.started = total, 0, time.perf_counter()
                self._log(name, f"{total} steps on {event.data_source}; {event.device}, {event.precision}")
        elif isinstance(event, StepEvent):
            self._add_step(event)
        elif isinstance(event, EvalEvent):
            self.evaluations.append(event)
            scores = []
            for kind, loss, accuracy in (
                ("test", event.test_loss, event.test_accuracy),
                ("validation", event.validation_loss, event.validation_accuracy),
            ):
                if accuracy is not None:
                    self.accuracy_rows.append((event.images_seen, accuracy * 100, f"{event.model} {kind}"))
                    scores.append(f"{kind} accuracy {accuracy:.2%}, {kind} loss {loss:.4f}")
            self._log(event.model, f"epoch {event.epoch}: {'; '.join(scores)}")
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
        elif isinstance(event, RunFinished):
            self.finished = event
            for name, result in event.results.items():
                acc = f", test accuracy {result.test_accuracy:.2%}" if result.test_accuracy is not None else ""
                if result.unscored_steps:
                    acc += f" (as of {result.unscored_steps} steps before the stop: scoring it again would have held the stop up)"
                self._log(
                    name,
                    f"{result.status} after {result.steps} steps in {result.train_time_s:.1f} s ({result.images_per_s:,.0f} images/s){acc}",
                )

    def truncate(self, name: str, images_seen: int) -> None:
        """Forget a model's curves after `images_seen` (it was rolled back there); its log keeps the history."""

        def keep(rows: list[tuple[int, float, str]], series) -> list[tuple[int, float, str]]:
            return [row for row in rows if row[0] <= images_seen or not series(row[2])]

        self.loss_rows = keep(self.loss_rows, lambda s: s == name)
        self.learning_rate_rows = keep(self.learning_rate_rows, lambda s: s == name)
        self.accuracy_rows = keep(self.accuracy_rows, lambda s: s.split()[0] == name)
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
        trace.step, trace.last = event.step, event
        trace.loss_ema = (
            event.loss if trace.loss_ema is None else SMOOTHING * trace.loss_ema + (1 - SMOOTHING) * event.loss
        )
        every = max(1, event.total_steps // MAX_POINTS)
        if event.step % every == 0 or event.step == event.total_steps:
            self.loss_rows.append((event.images_seen, trace.loss_ema, event.model))
            self.learning_rate_rows.append((event.images_seen, event.learning_rate, event.model))
            self.accuracy_rows.append((event.images_seen, event.accuracy * 100, f"{event.model} train"))
        log_every = max(1, event.total_steps // 20)
        if event.step % log_every == 0:
            self._log(
                event.model,
                f"epoch {event.epoch} step {event.step}/{event.total_steps}: loss {event.loss:.4f}, train accuracy {event.accuracy:.2%}, learning rate {event.learning_rate:.3g}, {event.images_per_s:,.0f} images/s",
            )

    # ------------------------------------------------------------ outputs

    def loss_frame(self) -> pd.DataFrame:
        return _curve_frame(self.loss_rows, ["images", "loss", "model"])

    def accuracy_frame(self) -> pd.DataFrame:
        """Every accuracy curve, plus a vertical line across the visible range where a model stopped early."""
        floor = self.accuracy_floor()
        stops = [
            (stop.images_seen, y, f"{name} {STOP_SERIES}")
            for name, stop in self.early_stops.items()
            for y in (floor, 100.0)
        ]
        return _curve_frame(self.accuracy_rows + stops, ["images", "accuracy", "curve"])

    def learning_rate_frame(self, name: str) -> pd.DataFrame:
        return _curve_frame(
            [row for row in self.learning_rate_rows if row[2] == name], ["images", "learning rate", "model"]
        )

    def progress_text(self) -> str:
        return "\n".join(self.progress_line(name) for name in self.names)

    def progress_line(self, name: str) -> str:
        trace = self.traces[name]
        last = trace.last
        elapsed = time.perf_counter() - trace.started
        return tqdm.format_meter(
            trace.step,
            trace.total_steps or None,
            elapsed,
            prefix=f"Model {name}",
            postfix=f"loss={trace.loss_ema:.3f}" if trace.loss_ema is not None else None,
            bar_format="{l_bar}{bar:10}{r_bar}",
            rate=trace.step / elapsed if last and elapsed > 0 else None,
        )

    def accuracy_floor(self) -> float:
        """Lower edge of the focused accuracy chart: 90% once every model gets there, else the decade below the laggard."""
        best: dict[str, float] = {}
        for _, accuracy, series in self.accuracy_rows:
            if accuracy == accuracy and not series.endswith(STOP_SERIES):  # not NaN, not a marker
                model = series.split()[0]
                best[model] = max(best.get(model, 0.0), accuracy)
        lowest = min(best.values(), default=100.0)
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
        alerts = "".join(f" · ⚠ {alert.message}" for alert in self.not_learning.values())
        alerts += f" · ⏱ {self.limit_note}" if self.limit_note else ""
        return f"**{state}** · {info.data_source} · {info.device} · {info.precision}{stops} · {elapsed:.1f} s{alerts}"


def _curve_frame(rows: list, columns: list[str]) -> pd.DataFrame:
    """Typed even when empty: the browser fixes each axis' type (number or category) from the first frame it gets."""
    return pd.DataFrame(rows, columns=columns).astype({columns[0]: "int64", columns[1]: "float64", columns[2]: "str"})


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
        "forward FLOPs / image": lambda r, s: f"{s.flops / 1e6:.1f} M",
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
