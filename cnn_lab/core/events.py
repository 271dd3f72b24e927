"""The small events a run yields: what the page, the benchmarks and the tests read of a run.

Plain frozen dataclasses: a run is a stream of these, and every consumer
(the page's RunView, a command line, a benchmark) folds them its own way.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass


@dataclass(frozen=True)
class RunStarted:
    device: str
    precision: str
    data_source: str
    train_size: int
    total_steps: dict[str, int]
    validation_size: int = 0
    num_classes: int = 10  # of the data: what guessing scores is 1 / num_classes
    train_available: int = 0  # images the training split has (train_size may be a part of them)
    test_size: int = 0  # images the test split has (evaluations within an epoch score a part of them)


@dataclass(frozen=True)
class StepEvent:
    model: str
    epoch: int  # 1-based, counted over the model's whole history (a continued run goes on from the last epoch)
    step: int  # 1-based, counted over this run
    total_steps: int  # of this run
    loss: float
    accuracy: float  # running training accuracy within this epoch
    learning_rate: float
    images_per_s: float  # this model's own training throughput so far
    images_seen: int  # over the model's whole history
    train_time_s: float = 0.0  # this model's training time in this run so far, evaluations excluded
    batch_accuracy: float = math.nan  # this step's own batch: the chart's train curve (the running average lags)


@dataclass(frozen=True)
class EvalEvent:
    model: str
    epoch: int
    step: int
    test_loss: float | None  # None when the data has no test split (cross-validation folds)
    test_accuracy: float | None
    per_class_accuracy: tuple[float, ...]
    train_time_s: float  # this model's training time so far, evaluations excluded
    validation_loss: float | None = None  # None without a validation split
    validation_accuracy: float | None = None
    images_seen: int = 0
    test_images: int = 0  # scored: a fixed part of the test split mid-run, all of it at a model's last evaluation


@dataclass(frozen=True)
class BestEpochRestored:
    """Early stopping kept a model's best epoch: because the score stalled (an early stop) or because training ended after it."""

    model: str
    epoch: int  # the last epoch trained
    best_epoch: int  # whose weights were restored (the last one's, if no epoch had a finite score)
    images_seen: int  # when it stopped, for marking the curve
    message: str
    stopped_early: bool


@dataclass(frozen=True)
class ModelFailed:
    model: str
    step: int
    message: str


@dataclass(frozen=True)
class ModelResult:
    status: str  # "finished", "stopped", "stopped early" or "failed"
    steps: int
    images_seen: int
    train_time_s: float
    images_per_s: float
    test_accuracy: float | None
    validation_accuracy: float | None = None
    epochs_done: int = 0
    not_learning: str | None = None  # why the model was not learning when the run ended (see LearningWatch)
    unscored_steps: int = 0  # steps after its last evaluation, left unscored because a stop would have waited for it
    test_images: int = 0  # the test images ``test_accuracy`` was scored on (fewer than the test split: a part of it)


@dataclass(frozen=True)
class RunFinished:
    reason: str  # "finished" (every model done or failed) or "stopped"
    elapsed_s: float
    results: dict[str, ModelResult]


@dataclass(frozen=True)
class FoldFinished:
    fold: int  # 1-based
    folds: int
    validation_loss: float
    validation_accuracy: float
    train_time_s: float


@dataclass(frozen=True)
class CrossValidationFinished:
    reason: str  # "finished", "stopped" or "failed" (a fold's loss diverged or it ran out of memory)
    validation_accuracies: tuple[float, ...]  # one per finished fold
    elapsed_s: float

    @property
    def mean(self) -> float:
        return statistics.fmean(self.validation_accuracies) if self.validation_accuracies else math.nan

    @property
    def std(self) -> float:
        """Sample standard deviation over the folds: the spread a different split would give."""
        return statistics.stdev(self.validation_accuracies) if len(self.validation_accuracies) > 1 else math.nan


@dataclass(frozen=True)
class LearningAlert:
    """A model stopped (``learning`` False) or started again (True) to learn; ``message`` says what was seen and what to try."""

    model: str
    step: int  # of this run, when it was noticed
    learning: bool
    message: str


@dataclass(frozen=True)
class GradientEvent:
    """One sampled step of one model: each layer's gradient norm (layers with weights) and dead-unit share (ReLUs)."""

    model: str
    step: int
    images_seen: int
    norms: dict[str, float]
    dead: dict[str, float]


@dataclass(frozen=True)
class Scoring:
    """A model's whole test split is being scored now (1-3 s on a CPU, with no step to show): the page says so."""

    model: str
    images: int
    urgent = True  # a worker sends it at once rather than with the next batch of events (class attribute)


@dataclass(frozen=True)
class CoresShared:
    """A run took turns on the CPU's cores with other runs (worker.py, turns.py) and waited this long for them in
    all: why it took longer than alone, though its numbers are the same."""

    waited_s: float


Event = (
    RunStarted
    | StepEvent
    | EvalEvent
    | GradientEvent
    | LearningAlert
    | BestEpochRestored
    | ModelFailed
    | RunFinished
    | CoresShared
    | Scoring
)
