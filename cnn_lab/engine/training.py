"""The trainer: two (or more) models in lockstep on the same data, reporting as it goes.

This is pytorch/examples' MNIST loop made fast and observable: the whole
dataset sits in one tensor on the device, batches are ``randperm`` slices,
and every step yields a small event that the UI and the benchmarks consume.

Fairness: every model walks the same shuffled order of the training set
(one permutation per epoch, drawn from the run seed). When models differ in
batch size or epochs, the next step always goes to the model that has seen
the fewest images so far (ties go to the first), so all advance at the same
rate in images seen and never drift apart by more than one batch.

Evaluations within an epoch score a fixed, class-balanced part of the test
split (the same images at every evaluation of a run): a point on the curve
for a fifth of a whole pass. An epoch's end (what its checkpoint keeps, what
early stopping and a roll back go back to) and a stop score the whole split,
so the test accuracy a run reports is the whole split's.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import nullcontext
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.optim.lr_scheduler import LRScheduler

from cnn_lab.core.config import ConfigError, RunConfig, TrainConfig
from cnn_lab.core.events import (
    BestEpochRestored,
    EvalEvent,
    Event,
    ModelFailed,
    ModelResult,
    RunFinished,
    RunStarted,
    Scoring,
    StepEvent,
)
from cnn_lab.data.augmentation import augment_batch
from cnn_lab.data.datasets import Dataset
from cnn_lab.engine.contenders import Contender, to_cpu
from cnn_lab.engine.distributed import Group, current
from cnn_lab.engine.gradient_flow import GRADIENT_EVERY, gradient_event, gradient_norms, sampled, watching_relus
from cnn_lab.engine.learning_watch import LearningWatch
from cnn_lab.engine.models import use_generator
from cnn_lab.engine.optim import chance_loss, make_optimizer, make_scheduler, per_sample_loss
from cnn_lab.engine.runtime import device_label, precision_name, resolve_device, resolve_precision, tune_allocator

EVAL_BATCH_CPU = 256  # larger batches stop fitting in cache on CPU
EVAL_BATCH_ACCELERATOR = 1024
STOP_SCORING_S = 2.0  # after a stop, a model is scored once more only when that takes less than this
TEST_PART_IMAGES = 2_000  # what the evaluations within an epoch score of the test split


Statistic = float | Sequence[float]  # a mean or std: one for all channels, or one per channel


def per_channel(value: Statistic, x: torch.Tensor) -> float | torch.Tensor:
    """A mean or std as ``x`` (B, C, H, W) can subtract it: a plain number where one serves every channel."""
    if isinstance(value, (int, float)) or len(value) == 1:
        return float(value if isinstance(value, (int, float)) else value[0])
    return torch.tensor(value, dtype=x.dtype, device=x.device).view(1, -1, 1, 1)


def prepare_batch(
    images: torch.Tensor,
    mean: Statistic,
    std: Statistic,
    augment: torch.Generator | None = None,
    kinds: tuple[str, ...] = (),
) -> torch.Tensor:
    """uint8 (B, H, W) grey or (B, C, H, W) -> normalised float (B, C, H, W) in channels_last, augmented with
    ``kinds`` when a generator is given."""
    x = (images.unsqueeze(1) if images.ndim == 3 else images).float().div_(255)
    if augment is not None and kinds:
        x = augment_batch(x, augment, kinds)
    return x.sub_(per_channel(mean, x)).div_(per_channel(std, x)).contiguous(memory_format=torch.channels_last)


def augmented_examples(images: torch.Tensor, kinds: tuple[str, ...], seed: int) -> torch.Tensor:
    """uint8 images, (N, H, W) or (N, C, H, W), as a model trained with ``kinds`` sees them (before normalisation),
    for a preview; the same layout comes back."""
    x = prepare_batch(images, 0.0, 1.0, torch.Generator().manual_seed(seed), kinds)
    x = x.mul(255).clamp(0, 255).round().to(torch.uint8)
    return x[:, 0] if images.ndim == 3 else x.contiguous()


def test_part(labels: torch.Tensor, size: int, seed: int) -> torch.Tensor:
    """Indices (ascending) of ``size`` test images, each class in its share of the split, drawn from a generator of
    the run's own: every evaluation of a run, and every run with the same seed, scores the same part."""
    n = len(labels)
    if size >= n:
        return torch.arange(n)
    shuffled = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    by_class = shuffled[torch.argsort(labels[shuffled], stable=True)]  # class after class, each in a random order
    return by_class[torch.arange(size) * n // size].sort().values  # evenly spaced: every class gets its share


class Interrupted(Exception):
    """An evaluation left half-way because the run was asked to stop."""


@torch.inference_mode()
def evaluate(
    module: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    normalization: tuple[float, float],
    train: TrainConfig,
    num_classes: int,
    batch_size: int = 256,
    precision: torch.dtype = torch.float32,
    stop: threading.Event | None = None,
) -> tuple[float, float, tuple[float, ...]]:
    """Loss (the model's own objective), accuracy and per-class accuracy in eval mode, at the precision the model trains in.

    Raises Interrupted when ``stop`` is set between two batches: a stop never waits for a whole test pass."""
    was_training = module.training
    module.eval()
    loss_sum, correct = 0.0, torch.zeros(num_classes, device=labels.device)
    for start in range(0, len(labels), batch_size):
        if stop is not None and stop.is_set():
            module.train(was_training)
            raise Interrupted
        x = prepare_batch(images[start : start + batch_size], *normalization)
        y = labels[start : start + batch_size]
        with torch.autocast(labels.device.type, dtype=torch.bfloat16, enabled=precision == torch.bfloat16):
            logits = module(x).float()
        loss_sum += per_sample_loss(train, logits, y).sum().item()
        hits = (logits.argmax(1) == y).float()
        correct.index_add_(0, y, hits)
    module.train(was_training)
    counts = torch.bincount(labels, minlength=num_classes).clamp(min=1)
    per_class = (correct / counts).tolist()
    return loss_sum / len(labels), float(correct.sum().item() / len(labels)), tuple(per_class)


@dataclass
class _Progress:
    """One model's place in the run."""

    contender: Contender
    optimizer: torch.optim.Optimizer
    scheduler: LRScheduler | None
    normalization: tuple[float, float]
    augment_rng: torch.Generator
    watch: LearningWatch
    steps_per_epoch: int
    total_steps: int
    last_epoch: int
    epoch: int
    position: int = 0  # index into this epoch's permutation
    step: int = 0  # of this run
    run_images: int = 0  # of this run: the lockstep key
    train_time_s: float = 0.0
    epoch_correct: int = 0
    epoch_images: int = 0
    evaluated_at: int = 0  # step of the last evaluation
    best_score: float = math.inf  # early stopping: the best monitored value so far, lower is better
    best_epoch: int = 0
    restored_best: bool = False  # the contender went back to its best epoch (and that epoch's optimizer state)
    status: str = "running"
    trainer: nn.Module | None = None  # what a step calls: the module, or DistributedDataParallel's wrapper of it

    @property
    def train(self) -> TrainConfig:
        return self.contender.spec.train


def _is_out_of_memory(err: BaseException) -> bool:
    return isinstance(err, torch.OutOfMemoryError) or "out of memory" in str(err).lower()


def _monitored(train: TrainConfig, loss: float | None, accuracy: float | None) -> float:
    """The early-stopping score, lower is better; inf without one (no validation split, or a loss that is not finite)."""
    if loss is None or accuracy is None:
        return math.inf
    score = loss if train.early_stopping == "val_loss" else -accuracy
    return score if math.isfinite(score) else math.inf


def _keep_best_epoch(p: _Progress, last: bool) -> BestEpochRestored | None:
    """At an epoch's end, with early stopping on: track the best epoch; once the score stalled for `patience`
    epochs (an early stop) or at the run's last epoch, go back to the best epoch and say why."""
    c, train = p.contender, p.train
    if train.early_stopping == "off":
        return None
    score = _monitored(train, c.validation_loss, c.validation_accuracy)
    if score < p.best_score:
        p.best_score, p.best_epoch = score, c.epochs_done
    stalled = c.epochs_done - p.best_epoch >= train.patience
    if not stalled and not (last and p.best_epoch != c.epochs_done):
        return None
    what = "validation loss" if train.early_stopping == "val_loss" else "validation accuracy"
    last_epoch, images_seen = c.epochs_done, c.images_seen
    if p.best_epoch not in c.checkpoints:  # never a finite score: nothing better to go back to
        return BestEpochRestored(
            c.name, last_epoch, last_epoch, images_seen,
            f"Model {c.name}, epoch {last_epoch}: its {what} was never a finite number, so no epoch is better than the last; "
            f"{'training stopped and ' if stalled else ''}its last weights are kept. Try a lower learning rate.",
            stalled,
        )  # fmt: skip
    c.restore(p.best_epoch)
    p.restored_best = True
    best = f"{c.validation_loss:.4f}" if train.early_stopping == "val_loss" else f"{c.validation_accuracy:.2%}"
    test = f" (test accuracy {c.test_accuracy:.2%})" if c.test_accuracy is not None else ""
    restored = f"the weights of epoch {p.best_epoch} are restored{test}."
    if stalled:
        plural = "s" if train.patience > 1 else ""
        message = f"Model {c.name} stopped early after epoch {last_epoch}: its {what} has not improved for {train.patience} epoch{plural} (best {best} at epoch {p.best_epoch}); {restored}"
    else:
        message = f"Model {c.name} trained its last epoch ({last_epoch}); its {what} was best at epoch {p.best_epoch} ({best}), so {restored}"
    return BestEpochRestored(c.name, last_epoch, p.best_epoch, images_seen, message, stalled)


# ---------------------------------------------------------------- the loop


@dataclass
class _Placed:
    """The run's data on its device, and what every step needs to know about it."""

    device: torch.device
    dtype: torch.dtype
    data: Dataset  # the run's training subset, validation held out
    train_x: torch.Tensor
    train_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    val_x: torch.Tensor | None
    val_y: torch.Tensor | None
    part_x: torch.Tensor  # the fixed part of the test split that evaluations within an epoch score
    part_y: torch.Tensor
    seed: int
    evals_per_epoch: int
    gradient_every: int  # record gradient norms and dead ReLUs every this many steps (0: never)
    permutations: dict[int, torch.Tensor]  # epoch -> order: the same for every model
    group: Group  # the processes training this run (one, unless started by torchrun): each takes its share of a batch
    stop_agreed: bool = False  # in a group: a stop every process has heard of (they end at the same step)

    @property
    def n(self) -> int:
        return len(self.train_y)

    @property
    def num_classes(self) -> int:
        return len(self.data.info.class_names)

    def order(self, epoch: int) -> torch.Tensor:
        if epoch not in self.permutations:
            generator = torch.Generator().manual_seed(self.seed * 1009 + epoch)
            self.permutations[epoch] = torch.randperm(self.n, generator=generator).to(self.device)
        return self.permutations[epoch]


def _place(run: RunConfig, data: Dataset, contenders: Sequence[Contender], gradient_every: int) -> _Placed:
    """Check the contenders against the run's data, hold out its validation split and move it all to the device."""
    device = resolve_device(run.device)
    data = data.subset(run.train_subset, run.seed)
    for c in contenders:
        run.check_fits(c.spec.train, len(data.train_labels), c.name)
        if c.spec.model.input_shape != data.image_shape:
            shapes = f"input shape {c.spec.model.input_shape} does not match the data's {data.image_shape}"
            raise ConfigError(f"model {c.name}: {shapes}", "input_shape")
    data = data.hold_out(run.validation_size, run.seed)
    validation = data.validation_size > 0
    test_x, test_y = data.test_images.to(device), data.test_labels.to(device)
    part = test_part(data.test_labels, TEST_PART_IMAGES, run.seed).to(device)
    return _Placed(
        device, resolve_precision(run.precision, device), data,
        data.train_images.to(device), data.train_labels.to(device), test_x, test_y,
        data.validation_images.to(device) if validation else None, data.validation_labels.to(device) if validation else None,
        test_x[part], test_y[part], run.seed, run.evals_per_epoch, gradient_every, {}, current(),
    )  # fmt: skip


def _start(c: Contender, run: RunConfig, d: _Placed, epochs: int | None) -> _Progress:
    """A contender's place in this run: its optimizer (with the state it learnt), schedule and random streams."""
    c.module.to(d.device, memory_format=torch.channels_last).train()
    for later in [e for e in c.checkpoints if e > c.epochs_done]:
        del c.checkpoints[later]  # continuing after a roll-back starts a new branch
    train = c.spec.train
    run_epochs = epochs or train.epochs
    steps_per_epoch = math.ceil(d.n / train.batch_size)
    position = c.position if c.position < d.n else 0  # resume an epoch a stop cut short
    optimizer = make_optimizer(train, c.module.parameters())
    if (
        c.optimizer_state is not None
    ):  # keep what it learnt (momenta), not its old rates; a copy: checkpoints stay as saved
        state = {"state": to_cpu(c.optimizer_state["state"]), "param_groups": optimizer.state_dict()["param_groups"]}
        optimizer.load_state_dict(state)
    # Every random draw comes from generators the run owns, seeded alike for every model: identical models see the
    # same augmented images and dropout masks, and no other run (another user's) can shift them.
    augment_rng = torch.Generator().manual_seed(run.seed + 1 + c.epochs_done)
    use_generator(c.module, torch.Generator(d.device).manual_seed(run.seed + 2 + c.epochs_done))
    p = _Progress(
        c, optimizer, make_scheduler(train, optimizer, steps_per_epoch, run_epochs), c.normalization(d.data.info),
        augment_rng, LearningWatch(c.name, train, c.spec.model, d.num_classes, chance_loss(train, d.num_classes)),
        steps_per_epoch, math.ceil((d.n - position) / train.batch_size) + steps_per_epoch * (run_epochs - 1),
        c.epochs_done + run_epochs, c.epochs_done + 1, position,
    )  # fmt: skip
    p.trainer = c.module
    if d.group.distributed:  # gradients averaged over the processes before each update: every copy stays the same
        on_gpu = d.device.type == "cuda"
        p.trainer = DistributedDataParallel(c.module, device_ids=[d.group.local_rank] if on_gpu else None)
    saved = c.checkpoints.get(c.epochs_done)
    if saved is not None:  # a continued run remembers how good the model already was
        p.best_score, p.best_epoch = _monitored(train, saved.validation_loss, saved.validation_accuracy), c.epochs_done
    return p


def _evaluate(p: _Progress, d: _Placed, whole: bool, stop: threading.Event | None = None) -> EvalEvent | None:
    """Score the model on the whole test split or its fixed part (and on the validation split, if any) in eval mode;
    None when ``stop`` was set half-way (the model keeps its previous scores). The whole split is scored in fp32, as
    the model is used after the run (Inspect, drawings, exported files): the accuracy a run reports is theirs too."""
    c = p.contender
    batch = EVAL_BATCH_CPU if d.device.type == "cpu" else EVAL_BATCH_ACCELERATOR
    test_x, test_y = (d.test_x, d.test_y) if whole else (d.part_x, d.part_y)
    dtype = torch.float32 if whole else d.dtype

    def scores(x: torch.Tensor, y: torch.Tensor) -> tuple[float, float, tuple[float, ...]]:
        return evaluate(c.module, x, y, p.normalization, p.train, d.num_classes, batch, dtype, stop)

    try:
        if d.group.leader:
            test = scores(test_x, test_y) if len(test_y) else (None, None, ())
            validation = scores(d.val_x, d.val_y) if d.val_y is not None else None
    except Interrupted:
        return None
    if d.group.distributed:  # one process scores; all go on from the same scores (early stopping, the best epoch)
        said = [test, validation] if d.group.leader else [None, None]
        dist.broadcast_object_list(said, src=0)
        test, validation = said
    test_loss, c.test_accuracy, per_class = test
    c.test_images = len(test_y)
    if validation is not None:
        c.validation_loss, c.validation_accuracy, _ = validation
    p.evaluated_at = p.step
    return EvalEvent(
        c.name, p.epoch, p.step, test_loss, c.test_accuracy, per_class, p.train_time_s,
        c.validation_loss, c.validation_accuracy, c.images_seen, c.test_images,
    )  # fmt: skip


def _failure(p: _Progress, d: _Placed, error: RuntimeError | None, loss: float) -> ModelFailed:
    """End one model after a loss that is not a number or running out of memory; its last good weights stay."""
    c, step = p.contender, p.step + 1
    p.status = "failed"
    if error is None:
        why = f"the loss became {loss} at step {step} (epoch {p.epoch})"
        advice = "its weights from the step before are kept. Try a lower learning rate."
    else:
        p.optimizer.zero_grad(set_to_none=True)
        if d.device.type == "cuda":
            torch.cuda.empty_cache()
        why = f"out of memory at batch size {p.train.batch_size}"
        advice = "its last weights are kept. Try a smaller batch or model."
    return ModelFailed(c.name, step, f"Model {c.name}: {why}; training of this model stopped and {advice}")


def _cheap_to_score(p: _Progress, d: _Placed) -> bool:
    """Whether scoring the model once more takes under STOP_SCORING_S, judged from its measured training speed (a
    forward pass costs about a third of a training step's forward and backward)."""
    if p.run_images == 0:
        return False
    images = len(d.test_y) + (len(d.val_y) if d.val_y is not None else 0)
    return images * p.train_time_s / p.run_images / 3 <= STOP_SCORING_S


def _train_step(p: _Progress, d: _Placed, stop: threading.Event | None = None) -> Iterator[Event]:
    """One batch for one model: forward, loss, backward, update; then what the step tells (evaluations, epoch ends)."""
    c = p.contender
    index = d.order(p.epoch)[p.position : p.position + p.train.batch_size]
    share = index[d.group.rank :: d.group.world] if d.group.distributed else index
    record = sampled(p.step + 1, d.gradient_every)
    norms = None
    tick = time.perf_counter()
    try:
        x = prepare_batch(d.train_x[share], *p.normalization, p.augment_rng, p.train.augment)
        y = d.train_y[share]
        with (
            torch.autocast(d.device.type, dtype=torch.bfloat16, enabled=d.dtype == torch.bfloat16),
            watching_relus(c.module) if record else nullcontext({}) as dead,
        ):
            logits = p.trainer(x)
        loss = per_sample_loss(p.train, logits.float(), y).mean()
        seen = torch.stack([loss.detach() * len(y), (logits.argmax(1) == y).sum().float()])
        if d.group.distributed:  # the whole batch's loss and hits, and whether any process was asked to stop: every
            asked = seen.new_tensor([float(stop is not None and stop.is_set())])  # process then judges the step
            seen = torch.cat([seen, asked])  # alike, and a stop ends them all after this step
            dist.all_reduce(seen)
            d.stop_agreed = bool(seen[2] > 0)
        loss_sum, correct = seen[:2].tolist()
        loss_value = loss_sum / len(index)
        if not math.isfinite(loss_value):
            yield _failure(p, d, None, loss_value)
            return
        if stop is not None and stop.is_set() and not d.group.distributed:  # a heavy model's backward pass is most
            return  # of a step: not waited for (processes in a group step together: their runs end at a batch's end)
        learning_rate = p.optimizer.param_groups[0]["lr"]  # the rate this step uses
        p.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if record:
            norms = gradient_norms(c.module)
        p.optimizer.step()
        if p.scheduler is not None:
            p.scheduler.step()
    except RuntimeError as err:
        if not _is_out_of_memory(err):
            raise
        yield _failure(p, d, err, math.nan)
        return
    p.train_time_s += time.perf_counter() - tick
    batch = len(index)
    yield _counted(p, batch, loss_value, correct, learning_rate)
    if norms is not None:
        yield gradient_event(c.name, p.step, c.images_seen, norms, dead)
    alert = p.watch.observe(p.step, loss_value, correct / batch)
    if alert is not None:
        yield alert
    yield from _evaluate_when_due(p, d, batch, stop)


def _counted(p: _Progress, batch: int, loss_value: float, correct: float, learning_rate: float) -> StepEvent:
    """Count the step just taken, and say so: its loss, the epoch's accuracy so far, the rate used, the speed."""
    c = p.contender
    p.step, p.position, p.run_images = p.step + 1, p.position + batch, p.run_images + batch
    c.steps, c.images_seen = c.steps + 1, c.images_seen + batch
    p.epoch_correct, p.epoch_images = p.epoch_correct + int(correct), p.epoch_images + batch
    speed = p.run_images / p.train_time_s if p.train_time_s > 0 else 0.0
    accuracy = p.epoch_correct / p.epoch_images
    return StepEvent(
        c.name, p.epoch, p.step, p.total_steps, loss_value, accuracy, learning_rate, speed, c.images_seen,
        p.train_time_s, correct / batch,
    )  # fmt: skip


def _evaluate_when_due(p: _Progress, d: _Placed, batch: int, stop) -> Iterator[Event]:
    """After a step: an evaluation when the step crossed one of the epoch's points, and the epoch's end."""
    c = p.contender
    if p.position * d.evals_per_epoch // d.n > (p.position - batch) * d.evals_per_epoch // d.n:
        # crossed one of the epoch's evaluation points (the last is its end); a group's scoring is never cut short
        whole = p.position >= d.n  # an epoch's end: the whole split
        if whole and len(d.test_y):
            yield Scoring(c.name, len(d.test_y))
        scored = _evaluate(p, d, whole, None if d.group.distributed else stop)
        if scored is not None:
            yield scored
    if p.position >= d.n:
        yield from _end_epoch(p)


def _end_epoch(p: _Progress) -> Iterator[Event]:
    """Save the epoch, let early stopping decide, and go on to the next epoch or finish."""
    c = p.contender
    c.epochs_done, c.position = p.epoch, 0
    c.save_checkpoint(p.optimizer, keep={p.best_epoch})
    kept = _keep_best_epoch(p, last=p.epoch == p.last_epoch)
    if kept is not None:
        yield kept
    if kept is not None and kept.stopped_early:
        p.status = "stopped early"
    elif p.epoch == p.last_epoch:
        p.status = "finished"
    else:
        p.epoch += 1
        p.position = p.epoch_correct = p.epoch_images = 0


def _update_checkpoint_scores(c: Contender) -> None:
    """The epoch saved with the weights the model still has (a stop cut its scoring short) takes their new scores."""
    saved = c.checkpoints.get(c.epochs_done)
    if saved is not None and saved.images_seen == c.images_seen:
        saved.test_accuracy, saved.test_images = c.test_accuracy, c.test_images
        saved.validation_loss, saved.validation_accuracy = c.validation_loss, c.validation_accuracy


def _result(p: _Progress) -> ModelResult:
    """What a model ends the run with; a model stopped mid-epoch resumes at this image of the epoch in a later run."""
    c = p.contender
    c.module.eval()
    if p.status == "running":
        c.position = p.position
    if not p.restored_best:  # going back to the best epoch restored that epoch's optimizer state too
        c.optimizer_state = to_cpu(p.optimizer.state_dict())
    stalled = p.watch.verdict(p.step)  # a stall counted to the run's end
    speed = p.run_images / p.train_time_s if p.train_time_s > 0 else 0.0
    status = "stopped" if p.status == "running" else p.status
    return ModelResult(
        status,
        p.step,
        p.run_images,
        p.train_time_s,
        speed,
        c.test_accuracy,
        c.validation_accuracy,
        c.epochs_done,
        stalled,
        p.step - p.evaluated_at if status == "stopped" else 0,
        c.test_images,
    )


def train_models(
    contenders: Sequence[Contender],
    run: RunConfig,
    data: Dataset,
    stop: threading.Event | None = None,
    epochs: int | None = None,
    gradient_every: int = GRADIENT_EVERY,
) -> Iterator[Event]:
    """Train the contenders in lockstep on ``data`` and yield an event per step, per evaluation and at the end.

    Each contender trains ``epochs`` more epochs (default: its config's) from
    where it stands: fresh models from scratch, trained ones continue with
    their weights and optimizer state (one stopped mid-epoch first finishes
    that epoch, from the image where it stopped). Every ``gradient_every``-th
    step also reports each layer's gradient norm and dead ReLUs (0: never).
    """
    tune_allocator()
    stop = stop or threading.Event()
    d = _place(run, data, contenders, gradient_every)
    progress = [_start(c, run, d, epochs) for c in contenders]
    totals = {p.contender.name: p.total_steps for p in progress}
    device = device_label(d.device)
    if d.group.distributed:
        device = f"{d.group.world} processes x {device}"
    yield RunStarted(
        device, precision_name(d.dtype), d.data.source, d.n, totals, d.data.validation_size,
        d.num_classes, len(d.data.train_labels), len(d.test_y),
    )  # fmt: skip
    started = time.perf_counter()

    def stopping() -> bool:
        return d.stop_agreed if d.group.distributed else stop.is_set()

    while (running := [p for p in progress if p.status == "running"]) and not stopping():
        # the model that has seen the fewest images steps next (min() keeps the first on ties)
        yield from _train_step(min(running, key=lambda q: q.run_images), d, stop)
    stopped = bool(running)
    if stopped and not d.group.distributed:  # a stopped model is still worth a score of the whole test split, when it
        # comes quickly: what it learnt since its last one, or all of the split where that scored the part or a stop cut
        # it short (a group's processes would each judge "quickly" by their own clock)
        for p in [q for q in progress if q.status != "failed"]:
            stale = p.step > p.evaluated_at or p.contender.test_images < len(d.test_y)
            if stale and _cheap_to_score(p, d):
                if len(d.test_y):
                    yield Scoring(p.contender.name, len(d.test_y))
                scored = _evaluate(p, d, whole=True)
                if scored is not None:
                    _update_checkpoint_scores(p.contender)
                    yield scored
    results = {p.contender.name: _result(p) for p in progress}
    yield RunFinished("stopped" if stopped else "finished", time.perf_counter() - started, results)
