"""k-fold cross-validation of one model: how much a score depends on the split."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace

from cnn_lab.core.config import MAX_FOLDS, ConfigError, ModelSpec, RunConfig
from cnn_lab.core.errors import quoted
from cnn_lab.core.events import CrossValidationFinished, Event, FoldFinished, RunFinished, StepEvent
from cnn_lab.data.datasets import Dataset
from cnn_lab.engine.contenders import Contender
from cnn_lab.engine.limits import TRAINING_FLOPS_PER_FORWARD
from cnn_lab.engine.models import summarize
from cnn_lab.engine.training import train_models


def cross_validate(
    spec: ModelSpec, run: RunConfig, data: Dataset, folds: int, stop: threading.Event | None = None
) -> Iterator[Event | FoldFinished | CrossValidationFinished]:
    """k-fold cross-validation of one model on the run's training subset: a fresh model per fold, all from the same initial weights.

    Yields each fold's training events (for progress), a FoldFinished per
    fold, and the mean and spread of validation accuracy at the end. Early
    stopping is off here: every fold trains the configured epochs.
    """
    spec = check_cross_validation(spec, run, folds, len(data.train_labels))
    stop = stop or threading.Event()
    data = data.subset(run.train_subset, run.seed)
    fold_run = replace(run, train_subset=None, validation_size=0)
    started, accuracies = time.perf_counter(), []
    for number, fold in enumerate(data.folds(folds, run.seed), start=1):
        contender = Contender.create("CV", spec, run.seed)
        finished = None
        for event in train_models([contender], fold_run, fold, stop):
            yield event
            finished = event
        result = finished.results["CV"]
        if result.status == "failed":  # the fold's ModelFailed event said why
            reason = "failed"
            break
        if finished.reason == "stopped":
            reason = "stopped"
            break
        accuracies.append(contender.validation_accuracy)
        yield FoldFinished(number, folds, contender.validation_loss, contender.validation_accuracy, result.train_time_s)
    else:
        reason = "finished"
    yield CrossValidationFinished(reason, tuple(accuracies), time.perf_counter() - started)


def check_cross_validation(spec: ModelSpec, run: RunConfig, folds: int, train_size: int) -> ModelSpec:
    """Refuse what k-fold cannot run (folds out of range, a batch larger than a fold's training part); returns the spec it trains."""
    if isinstance(folds, bool) or not isinstance(folds, int) or not 2 <= folds <= MAX_FOLDS:
        raise ConfigError(f"folds must be a whole number from 2 to {MAX_FOLDS}, got {quoted(folds)}", "folds")
    images = run.training_images(train_size)
    if images < 2 * folds:
        raise ConfigError(
            f"cross-validation needs at least {2 * folds} training images for {folds} folds, got {images}",
            "train_subset",
        )
    spec = replace(spec, train=replace(spec.train, early_stopping="off"))
    replace(run, validation_size=0).check_fits(spec.train, images - math.ceil(images / folds))
    return spec


TIMING_FLOPS = 2e11  # the most work timing one model may do: a second or two at this machine's 100-200 GFLOP/s
MIN_TIMING_BATCHES = 3  # the first batch is the slowest: fewer would time mostly the warm-up


def seconds_per_image(spec: ModelSpec, run: RunConfig, data: Dataset, timing_batches: int = 8) -> float:
    """Training seconds per image of ``spec`` here, from a few timed batches of ``run``'s data (slightly high: the
    first batches are the slowest). A huge model is timed on fewer batches, then on smaller ones (higher still: small
    batches use the cores less well), so that timing it does at most TIMING_FLOPS of work rather than minutes."""
    data = data.subset(run.train_subset, run.seed)
    batch = spec.train.batch_size
    flops = TRAINING_FLOPS_PER_FORWARD * summarize(spec.model).flops
    affordable = max(2 * MIN_TIMING_BATCHES, int(TIMING_FLOPS / max(flops, 1.0)))  # images
    if batch * timing_batches > affordable:
        timing_batches = max(MIN_TIMING_BATCHES, min(timing_batches, affordable // batch))
        if batch * timing_batches > affordable:  # two at least: batch norm after a linear layer needs two
            batch = max(2, affordable // timing_batches)
            spec = replace(spec, train=replace(spec.train, batch_size=batch))
    sample = data.subset(min(len(data.train_labels), batch * timing_batches), run.seed + 3)
    spec = replace(spec, train=replace(spec.train, early_stopping="off"))  # timed without a validation split
    probe = Contender.create("timing", spec, run.seed)
    timing_run = replace(run, train_subset=None, validation_size=0, evals_per_epoch=1)
    steps_at: list[float] = []  # when each step ended: the first step's warm-up (kernels, allocations) is left out
    for event in train_models([probe], timing_run, sample.without_test(), epochs=1):
        if isinstance(event, StepEvent):
            steps_at.append(time.perf_counter())
        elif isinstance(event, RunFinished):
            finished = event
    if finished.results["timing"].status == "failed":
        raise ConfigError(
            f"the model could not train {timing_batches} timing batches (out of memory or a diverging loss); try a smaller batch, model or learning rate",
            "batch_size",
        )
    if len(steps_at) < 2:
        return 1 / finished.results["timing"].images_per_s
    return (steps_at[-1] - steps_at[0]) / ((len(steps_at) - 1) * batch)


def estimate_cross_validation_s(
    spec: ModelSpec, run: RunConfig, data: Dataset, folds: int, timed: Callable[..., float] | None = None
) -> float:
    """Seconds k-fold cross-validation will take here, from a few timed training batches (``timed(spec, run,
    data)``, default seconds_per_image; a rough, slightly high estimate)."""
    n = run.training_images(len(data.train_labels))
    train_images = n * (folds - 1) / folds * spec.train.epochs
    validation_images = n / folds * spec.train.epochs * run.evals_per_epoch
    return (
        folds * (timed or seconds_per_image)(spec, run, data) * (train_images + validation_images / 3)
    )  # a forward pass costs about a third of a step
