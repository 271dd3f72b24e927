"""Is A really better than B, or did it draw a luckier seed? The same A/B setup over several seeds, and a verdict with
its uncertainty.

Each seed changes both models' initial weights, data order, augmentation and
dropout alike, so the difference A - B is paired per seed. The verdict is the
mean difference with its standard error; it names a winner only when the mean
is more than twice its standard error away from zero (about 95 % confidence
for a normal spread).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cnn_lab.core.config import ConfigError, ExperimentConfig
from cnn_lab.core.errors import quoted
from cnn_lab.data.datasets import Dataset
from cnn_lab.engine.crossval import seconds_per_image

MIN_SEEDS, MAX_SEEDS = 2, 20


@dataclass(frozen=True)
class SeedVerdict:
    accuracies: dict[str, list[float]]  # model -> test accuracy per seed, 0-1
    difference_pp: float  # mean of A - B over the seeds, percentage points
    standard_error_pp: float
    text: str

    @property
    def seeds(self) -> int:
        return len(self.accuracies["A"])

    def mean_pp(self, model: str) -> float:
        return 100 * statistics.fmean(self.accuracies[model])

    def std_pp(self, model: str) -> float:
        return 100 * statistics.stdev(self.accuracies[model]) if self.seeds > 1 else 0.0


def check_seeds(seeds: object) -> int:
    if isinstance(seeds, bool) or not isinstance(seeds, int) or not MIN_SEEDS <= seeds <= MAX_SEEDS:
        raise ConfigError(f"seeds must be a whole number from {MIN_SEEDS} to {MAX_SEEDS}, got {quoted(seeds)}", "seeds")
    return seeds


def estimate_repeat_s(
    setup: ExperimentConfig, data: Dataset, seeds: int, timed: Callable[..., float] = seconds_per_image
) -> float:
    """Seconds the seeds will take here: both models' timed speed (``timed(spec, run, data)``, a few batches)
    times their images, evaluations included."""
    run = setup.run
    train_images = run.training_images(len(data.train_labels)) - run.validation_size
    evaluated = len(data.test_labels) + run.validation_size
    total = 0.0
    for spec in (setup.a, setup.b):
        per_image = timed(spec, run, data)
        evaluations = spec.train.epochs * run.evals_per_epoch * evaluated / 3  # a forward pass: a third of a step
        total += per_image * (spec.train.epochs * train_images + evaluations)
    return seeds * total


def seed_verdict(pairs: Sequence[tuple[float, float]]) -> SeedVerdict:
    """The verdict over (A's, B's) test accuracy per seed."""
    a, b = [x for x, _ in pairs], [y for _, y in pairs]
    differences = [100 * (x - y) for x, y in pairs]
    mean = statistics.fmean(differences)
    error = statistics.stdev(differences) / math.sqrt(len(differences)) if len(differences) > 1 else math.inf
    n = len(pairs)
    if abs(mean) > 2 * error:
        winner, loser = ("A", "B") if mean > 0 else ("B", "A")
        text = f"{winner} beats {loser} by {abs(mean):.2f} ± {error:.2f} pp over {n} seeds"
    else:
        text = f"no measurable difference over {n} seeds: A - B = {mean:+.2f} ± {error:.2f} pp"
    return SeedVerdict({"A": a, "B": b}, mean, error, text)
