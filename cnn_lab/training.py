"""The trainer: two (or more) models in lockstep on the same data, reporting as it goes.

This is pytorch/examples' MNIST loop made fast and observable: the whole
dataset sits in one tensor on the device, batches are ``randperm`` slices,
and every step yields a small event that the UI and the benchmarks consume.

Fairness: every model walks the same shuffled order of the training set
(one permutation per epoch, drawn from the run seed). When models differ in
batch size or epochs, the next step always goes to the model that has seen
the fewest images so far (ties go to the first), so all advance at the same
rate in images seen and never drift apart by more than one batch.
"""

from __future__ import annotations

import math
import queue
import threading
import time
from dataclasses import dataclass
from typing import Iterator, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .augmentation import augment_batch
from .config import ConfigError, ModelSpec, RunConfig, TrainConfig
from .data import Dataset
from .models import build_model
from .runtime import device_label, precision_name, resolve_device, resolve_precision, tune_allocator

EVAL_BATCH_CPU = 256  # larger batches stop fitting in cache on CPU
EVAL_BATCH_ACCELERATOR = 1024


@dataclass
class Contender:
    """A named model being compared; the module keeps its weights after any run, stopped or failed."""

    name: str
    spec: ModelSpec
    module: nn.Module
    test_accuracy: float | None = None

    @classmethod
    def create(cls, name: str, spec: ModelSpec, seed: int = 0) -> "Contender":
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            return cls(name, spec, build_model(spec.model))


# ---------------------------------------------------------------- events


@dataclass(frozen=True)
class RunStarted:
    device: str
    precision: str
    data_source: str
    train_size: int
    total_steps: dict[str, int]


@dataclass(frozen=True)
class StepEvent:
    model: str
    epoch: int  # 1-based
    step: int  # 1-based, counted over the whole run
    total_steps: int
    loss: float
    accuracy: float  # running training accuracy within this epoch
    learning_rate: float
    images_per_s: float  # this model's own training throughput so far
    images_seen: int


@dataclass(frozen=True)
class EvalEvent:
    model: str
    epoch: int
    step: int
    test_loss: float
    test_accuracy: float
    per_class_accuracy: tuple[float, ...]
    train_time_s: float  # this model's training time so far, evaluations excluded


@dataclass(frozen=True)
class ModelFailed:
    model: str
    step: int
    message: str


@dataclass(frozen=True)
class ModelResult:
    status: str  # "finished", "stopped" or "failed"
    steps: int
    images_seen: int
    train_time_s: float
    images_per_s: float
    test_accuracy: float | None


@dataclass(frozen=True)
class RunFinished:
    reason: str  # "finished" (every model done or failed) or "stopped"
    elapsed_s: float
    results: dict[str, ModelResult]


Event = RunStarted | StepEvent | EvalEvent | ModelFailed | RunFinished


# ---------------------------------------------------------------- helpers


def make_optimizer(train: TrainConfig, params) -> torch.optim.Optimizer:
    lr = train.learning_rate
    if train.optimizer == "adam":
        return torch.optim.Adam(params, lr=lr)
    if train.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=lr)
    if train.optimizer == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=0.9)
    return torch.optim.RMSprop(params, lr=lr)


def make_scheduler(train: TrainConfig, optimizer: torch.optim.Optimizer, total_steps: int) -> torch.optim.lr_scheduler.LRScheduler | None:
    """A per-step learning-rate schedule, or None for a constant rate."""
    if train.schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=train.learning_rate, total_steps=total_steps)
    return None


def prepare_batch(images: torch.Tensor, mean: float, std: float, augment: torch.Generator | None = None) -> torch.Tensor:
    """uint8 (B, H, W) -> normalised float (B, 1, H, W) in channels_last, augmented when a generator is given."""
    x = images.unsqueeze(1).float().div_(255)
    if augment is not None:
        x = augment_batch(x, augment)
    return x.sub_(mean).div_(std).contiguous(memory_format=torch.channels_last)


@torch.inference_mode()
def evaluate(
    module: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    mean: float,
    std: float,
    num_classes: int,
    batch_size: int = 256,
    precision: torch.dtype = torch.float32,
) -> tuple[float, float, tuple[float, ...]]:
    """Test loss, accuracy and per-class accuracy in eval mode, at the precision the model trains in."""
    was_training = module.training
    module.eval()
    loss_sum, correct = 0.0, torch.zeros(num_classes, device=labels.device)
    for start in range(0, len(labels), batch_size):
        x = prepare_batch(images[start : start + batch_size], mean, std)
        y = labels[start : start + batch_size]
        with torch.autocast(labels.device.type, dtype=torch.bfloat16, enabled=precision == torch.bfloat16):
            logits = module(x).float()
        loss_sum += F.cross_entropy(logits, y, reduction="sum").item()
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
    scheduler: torch.optim.lr_scheduler.LRScheduler | None
    steps_per_epoch: int
    total_steps: int
    epoch: int = 1
    position: int = 0  # index into this epoch's permutation
    step: int = 0
    images_seen: int = 0
    train_time_s: float = 0.0
    epoch_correct: int = 0
    epoch_images: int = 0
    evaluated_at: int = 0  # step of the last evaluation
    status: str = "running"

    @property
    def train(self) -> TrainConfig:
        return self.contender.spec.train


def _is_out_of_memory(err: BaseException) -> bool:
    return isinstance(err, torch.OutOfMemoryError) or "out of memory" in str(err).lower()


# ---------------------------------------------------------------- the loop


def train_models(
    contenders: Sequence[Contender],
    run: RunConfig,
    data: Dataset,
    stop: threading.Event | None = None,
) -> Iterator[Event]:
    """Train the contenders in lockstep on ``data`` and yield an event per step, per evaluation and at the end."""
    tune_allocator()
    stop = stop or threading.Event()
    device = resolve_device(run.device)
    dtype = resolve_precision(run.precision, device)
    data = data.subset(run.train_subset, run.seed)
    for c in contenders:
        run.check_fits(c.spec.train, len(data.train_labels), c.name)
        if c.spec.model.input_shape != data.image_shape:
            raise ConfigError(f"model {c.name}: input shape {c.spec.model.input_shape} does not match the data's {data.image_shape}", "input_shape")

    mean, std = data.info.mean, data.info.std
    train_x, train_y = data.train_images.to(device), data.train_labels.to(device)
    test_x, test_y = data.test_images.to(device), data.test_labels.to(device)
    n = len(train_y)
    eval_batch = EVAL_BATCH_CPU if device.type == "cpu" else EVAL_BATCH_ACCELERATOR
    num_classes = len(data.info.class_names)

    torch.manual_seed(run.seed)
    order_rng = torch.Generator().manual_seed(run.seed)
    augment_rng = torch.Generator().manual_seed(run.seed + 1)
    permutations: list[torch.Tensor] = []  # shared: epoch e uses permutations[e - 1] for every model

    progress = []
    for c in contenders:
        c.module.to(device, memory_format=torch.channels_last).train()
        steps_per_epoch = math.ceil(n / c.spec.train.batch_size)
        total_steps = steps_per_epoch * c.spec.train.epochs
        optimizer = make_optimizer(c.spec.train, c.module.parameters())
        progress.append(_Progress(c, optimizer, make_scheduler(c.spec.train, optimizer, total_steps), steps_per_epoch, total_steps))

    def evaluate_progress(p: _Progress) -> EvalEvent:
        test_loss, test_acc, per_class = evaluate(p.contender.module, test_x, test_y, mean, std, num_classes, eval_batch, dtype)
        p.contender.test_accuracy, p.evaluated_at = test_acc, p.step
        return EvalEvent(p.contender.name, p.epoch, p.step, test_loss, test_acc, per_class, p.train_time_s)

    yield RunStarted(device_label(device), precision_name(dtype), data.source, n, {p.contender.name: p.total_steps for p in progress})
    started = time.perf_counter()
    reason = "finished"
    while True:
        running = [p for p in progress if p.status == "running"]
        if not running:
            break
        if stop.is_set():
            reason = "stopped"
            break
        p = min(running, key=lambda q: q.images_seen)  # min() keeps the first on ties
        while len(permutations) < p.epoch:
            permutations.append(torch.randperm(n, generator=order_rng).to(device))
        index = permutations[p.epoch - 1][p.position : p.position + p.train.batch_size]
        tick = time.perf_counter()
        try:
            x = prepare_batch(train_x[index], mean, std, augment_rng if p.train.augment else None)
            y = train_y[index]
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=dtype == torch.bfloat16):
                logits = p.contender.module(x)
            loss = F.cross_entropy(logits.float(), y)
            loss_value, correct = torch.stack([loss.detach(), (logits.argmax(1) == y).sum().float()]).tolist()
            if not math.isfinite(loss_value):
                p.status = "failed"
                yield ModelFailed(
                    p.contender.name,
                    p.step + 1,
                    f"Model {p.contender.name}: the loss became {loss_value} at step {p.step + 1} (epoch {p.epoch}); "
                    "training of this model stopped and its weights from the step before are kept. Try a lower learning rate.",
                )
                continue
            learning_rate = p.optimizer.param_groups[0]["lr"]  # the rate this step uses
            p.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            p.optimizer.step()
            if p.scheduler is not None:
                p.scheduler.step()
        except RuntimeError as err:
            if not _is_out_of_memory(err):
                raise
            p.status = "failed"
            p.optimizer.zero_grad(set_to_none=True)
            if device.type == "cuda":
                torch.cuda.empty_cache()
            yield ModelFailed(p.contender.name, p.step + 1, f"Model {p.contender.name}: out of memory at batch size {p.train.batch_size}; training of this model stopped. Try a smaller batch or model.")
            continue
        p.train_time_s += time.perf_counter() - tick
        batch = len(index)
        p.step += 1
        p.position += batch
        p.images_seen += batch
        p.epoch_correct += int(correct)
        p.epoch_images += batch
        yield StepEvent(
            p.contender.name,
            p.epoch,
            p.step,
            p.total_steps,
            loss_value,
            p.epoch_correct / p.epoch_images,
            learning_rate,
            p.images_seen / p.train_time_s if p.train_time_s > 0 else 0.0,
            p.images_seen,
        )
        if p.position * run.evals_per_epoch // n > (p.position - batch) * run.evals_per_epoch // n:
            yield evaluate_progress(p)  # crossed one of the epoch's evaluation points (the last is its end)
        if p.position >= n:
            p.epoch += 1
            p.position = p.epoch_correct = p.epoch_images = 0
            if p.epoch > p.train.epochs:
                p.status = "finished"

    if reason == "stopped":  # a stopped model is still worth a score: evaluate what it learnt since its last epoch
        for p in progress:
            if p.status == "running" and p.step > p.evaluated_at:
                yield evaluate_progress(p)

    results = {}
    for p in progress:
        p.contender.module.eval()
        status = "stopped" if p.status == "running" else p.status
        speed = p.images_seen / p.train_time_s if p.train_time_s > 0 else 0.0
        results[p.contender.name] = ModelResult(status, p.step, p.images_seen, p.train_time_s, speed, p.contender.test_accuracy)
    yield RunFinished(reason, time.perf_counter() - started, results)


_DONE = object()


def in_background(events: Iterator[Event], poll_s: float) -> Iterator[Event | None]:
    """Run a training generator on its own thread and relay its events; yields None after `poll_s` of silence.

    Driven directly by a web handler, the trainer would pause whenever the
    handler is busy sending a page update; on its own thread it never waits.
    Closing this generator does not stop the run: set the run's stop event.
    """
    relay: queue.Queue = queue.Queue()

    def work() -> None:
        try:
            for event in events:
                relay.put(event)
        except BaseException as err:  # handed to the consumer, raised there
            relay.put(err)
        finally:
            relay.put(_DONE)

    threading.Thread(target=work, name="cnn_lab-training", daemon=True).start()
    while True:
        try:
            item = relay.get(timeout=poll_s)
        except queue.Empty:
            yield None
            continue
        if item is _DONE:
            return
        if isinstance(item, BaseException):
            raise item
        yield item
