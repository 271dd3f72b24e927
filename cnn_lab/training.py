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
import statistics
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Iterator, Sequence

import torch
import torch.nn.functional as F
from torch import nn
from torch.optim import lr_scheduler
from torch.optim.lr_scheduler import LRScheduler

from .augmentation import augment_batch
from .config import ConfigError, ModelSpec, RunConfig, TrainConfig
from .data import Dataset, DatasetInfo
from .models import build_model
from .runtime import device_label, precision_name, resolve_device, resolve_precision, tune_allocator

EVAL_BATCH_CPU = 256  # larger batches stop fitting in cache on CPU
EVAL_BATCH_ACCELERATOR = 1024
CHECKPOINT_BUDGET_BYTES = 256 * 2**20  # per model: the oldest epochs go first (all of them fit for models of the presets' size)


@dataclass
class Checkpoint:
    """A model as it was at the end of an epoch: weights, optimizer state and scores, all on the CPU."""

    epoch: int
    images_seen: int
    steps: int
    weights: dict[str, torch.Tensor]
    optimizer_state: dict
    test_accuracy: float | None
    validation_loss: float | None
    validation_accuracy: float | None


@dataclass
class Contender:
    """A named model being compared, with its training history.

    The module keeps its weights after any run, stopped or failed; a later
    run continues from them (and from the optimizer's state), and every
    finished epoch is kept as a checkpoint to roll back to.
    """

    name: str
    spec: ModelSpec
    module: nn.Module
    test_accuracy: float | None = None
    validation_loss: float | None = None
    validation_accuracy: float | None = None
    epochs_done: int = 0
    position: int = 0  # images of the next epoch already trained (after a stop mid-epoch); a later run resumes there
    images_seen: int = 0
    steps: int = 0
    optimizer_state: dict | None = None
    checkpoints: dict[int, Checkpoint] = field(default_factory=dict)

    @classmethod
    def create(cls, name: str, spec: ModelSpec, seed: int = 0) -> "Contender":
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            return cls(name, spec, build_model(spec.model))

    def normalization(self, info: DatasetInfo) -> tuple[float, float]:
        """The (mean, std) this model's inputs are normalised with: the dataset's, or (0, 1) with normalisation off."""
        return (info.mean, info.std) if self.spec.train.normalize else (0.0, 1.0)

    def save_checkpoint(self, optimizer: torch.optim.Optimizer, keep: set[int] = frozenset()) -> None:
        """Keep this epoch; over CHECKPOINT_BUDGET_BYTES, drop the oldest epochs except this one and those in ``keep``."""
        self.checkpoints[self.epochs_done] = Checkpoint(
            self.epochs_done,
            self.images_seen,
            self.steps,
            _to_cpu(self.module.state_dict()),
            _to_cpu(optimizer.state_dict()),
            self.test_accuracy,
            self.validation_loss,
            self.validation_accuracy,
        )
        sizes = {epoch: _checkpoint_bytes(saved) for epoch, saved in self.checkpoints.items()}
        for epoch in sorted(sizes):
            if sum(sizes.values()) <= CHECKPOINT_BUDGET_BYTES:
                break
            if epoch != self.epochs_done and epoch not in keep:
                del self.checkpoints[epoch], sizes[epoch]

    def restore(self, epoch: int) -> None:
        """Go back (or forward) to the checkpoint of ``epoch``; a later run continues from there."""
        if epoch not in self.checkpoints:
            kept = ", ".join(map(str, sorted(self.checkpoints))) or "none yet"
            raise ConfigError(f"model {self.name}: epoch must be one of the saved epochs ({kept}), got {epoch}", "epoch")
        saved = self.checkpoints[epoch]
        self.module.load_state_dict(saved.weights)
        self.optimizer_state = saved.optimizer_state
        self.epochs_done, self.position, self.images_seen, self.steps = saved.epoch, 0, saved.images_seen, saved.steps
        self.test_accuracy, self.validation_loss, self.validation_accuracy = saved.test_accuracy, saved.validation_loss, saved.validation_accuracy


def create_contenders(specs: dict[str, ModelSpec], run: RunConfig) -> list[Contender]:
    """Fresh models for a run; with ``identical_init``, models of the same architecture start from the same weights."""
    return [Contender.create(name, spec, run.seed if run.identical_init else run.seed + index) for index, (name, spec) in enumerate(specs.items())]


def _checkpoint_bytes(saved: Checkpoint) -> int:
    tensors = list(saved.weights.values()) + [v for s in saved.optimizer_state.get("state", {}).values() for v in s.values() if isinstance(v, torch.Tensor)]
    return sum(t.numel() * t.element_size() for t in tensors)


def _to_cpu(state: object) -> object:
    """A deep copy on the CPU: a checkpoint must not change with the live model, nor hold accelerator memory."""
    if isinstance(state, torch.Tensor):
        return state.detach().to("cpu", copy=True)
    if isinstance(state, dict):
        return {k: _to_cpu(v) for k, v in state.items()}
    if isinstance(state, list):
        return [_to_cpu(v) for v in state]
    return state


# ---------------------------------------------------------------- events


@dataclass(frozen=True)
class RunStarted:
    device: str
    precision: str
    data_source: str
    train_size: int
    total_steps: dict[str, int]
    validation_size: int = 0


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


Event = RunStarted | StepEvent | EvalEvent | BestEpochRestored | ModelFailed | RunFinished


# ---------------------------------------------------------------- helpers

WARMUP_START = 0.01  # a warm-up starts at 1% of the learning rate and rises linearly
ONECYCLE_DEFAULT_RISE = 0.3  # torch's pct_start: the share of steps spent rising, unless a warm-up is given
ONECYCLE_MOMENTUM_DIP = 0.1  # torch's default cycles momentum 0.95 -> 0.85 -> 0.95; ours cycles from the configured value
PREVIEW_MAX_STEPS = 20_000  # the schedule preview steps the real scheduler up to this many steps


def make_optimizer(train: TrainConfig, params) -> torch.optim.Optimizer:
    lr, decay = train.learning_rate, train.weight_decay
    if train.optimizer == "adam":
        return torch.optim.Adam(params, lr=lr, betas=(train.beta1, train.beta2), weight_decay=decay)
    if train.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=lr, betas=(train.beta1, train.beta2), weight_decay=decay)
    if train.optimizer == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=train.momentum, nesterov=train.nesterov and train.momentum > 0, weight_decay=decay)
    if train.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, alpha=train.alpha, momentum=train.momentum, weight_decay=decay)
    return torch.optim.Adadelta(params, lr=lr, weight_decay=decay)


def make_scheduler(train: TrainConfig, optimizer: torch.optim.Optimizer, steps_per_epoch: int, epochs: int | None = None) -> LRScheduler | None:
    """torch's per-step schedule for ``epochs`` epochs (default: the config's), or None for a constant rate without warm-up.

    Rates are defined per epoch (step: x gamma every ``decay_every`` epochs;
    exponential: x gamma per epoch, spread smoothly over its steps; cosine:
    to 0 by the last step), after ``warmup_epochs`` of linear warm-up.
    """
    total = steps_per_epoch * (epochs or train.epochs)
    warmup = min(round(train.warmup_epochs * steps_per_epoch), total - 1)
    if train.schedule == "onecycle":  # its momentum (Adam: beta1) dips by 0.1 while the rate peaks, as in Smith's policy
        momentum = {"adam": train.beta1, "adamw": train.beta1, "sgd": train.momentum, "rmsprop": train.momentum}.get(train.optimizer, 0.0)
        rise = warmup / total if warmup else ONECYCLE_DEFAULT_RISE
        return lr_scheduler.OneCycleLR(
            optimizer, max_lr=train.learning_rate, total_steps=total, pct_start=rise,
            cycle_momentum=momentum > 0, max_momentum=momentum, base_momentum=max(0.0, momentum - ONECYCLE_MOMENTUM_DIP),
        )  # fmt: skip
    if train.schedule == "step":
        main = lr_scheduler.StepLR(optimizer, step_size=max(1, round(train.decay_every * steps_per_epoch)), gamma=train.gamma)
    elif train.schedule == "exponential":
        main = lr_scheduler.ExponentialLR(optimizer, gamma=train.gamma ** (1 / steps_per_epoch))
    elif train.schedule == "cosine":
        main = lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(1, total - warmup))
    elif warmup:
        main = lr_scheduler.ConstantLR(optimizer, factor=1.0, total_iters=0)
    else:
        return None
    if not warmup:
        return main
    rise = lr_scheduler.LinearLR(optimizer, start_factor=WARMUP_START, end_factor=1.0, total_iters=warmup)
    return lr_scheduler.SequentialLR(optimizer, [rise, main], milestones=[warmup])


def schedule_curve(train: TrainConfig, steps_per_epoch: int, max_points: int = 400) -> list[tuple[float, float]]:
    """(epoch, learning rate) along a whole run, stepped through the same torch scheduler training uses; at most max_points of them.

    Runs longer than PREVIEW_MAX_STEPS are stepped at fewer steps per epoch
    (the shape in epochs is the same, short warm-ups round differently).
    """
    steps_per_epoch = max(1, min(steps_per_epoch, PREVIEW_MAX_STEPS // train.epochs))
    total = steps_per_epoch * train.epochs
    every = math.ceil(total / max_points)
    optimizer = make_optimizer(train, [torch.zeros(1, requires_grad=True)])
    scheduler = make_scheduler(train, optimizer, steps_per_epoch)
    points = []
    for step in range(total):
        if step % every == 0 or step == total - 1:
            points.append((step / steps_per_epoch, optimizer.param_groups[0]["lr"]))
        if scheduler is not None:
            optimizer.step()  # a no-op without gradients; keeps torch from warning about the order
            scheduler.step()
    return points


def per_sample_loss(train: TrainConfig, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """The training objective for each image of a batch (float32 logits in)."""
    if train.loss == "label_smoothing":
        return F.cross_entropy(logits, labels, label_smoothing=train.label_smoothing, reduction="none")
    if train.loss == "hinge":
        return F.multi_margin_loss(logits, labels, reduction="none")
    if train.loss == "mse":  # on softmax probabilities against one-hot targets: gradients vanish when confidently wrong
        targets = F.one_hot(labels, logits.shape[1]).float()
        return F.mse_loss(torch.softmax(logits, 1), targets, reduction="none").mean(1)
    return F.cross_entropy(logits, labels, reduction="none")


def prepare_batch(
    images: torch.Tensor, mean: float, std: float, augment: torch.Generator | None = None, kinds: tuple[str, ...] = ()
) -> torch.Tensor:
    """uint8 (B, H, W) -> normalised float (B, 1, H, W) in channels_last, augmented with ``kinds`` when a generator is given."""
    x = images.unsqueeze(1).float().div_(255)
    if augment is not None and kinds:
        x = augment_batch(x, augment, kinds)
    return x.sub_(mean).div_(std).contiguous(memory_format=torch.channels_last)


def augmented_examples(images: torch.Tensor, kinds: tuple[str, ...], seed: int) -> torch.Tensor:
    """uint8 (N, H, W) images as a model trained with ``kinds`` sees them (before normalisation), for a preview."""
    x = prepare_batch(images, 0.0, 1.0, torch.Generator().manual_seed(seed), kinds)
    return x.mul(255).clamp(0, 255).round().to(torch.uint8)[:, 0]


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
) -> tuple[float, float, tuple[float, ...]]:
    """Loss (the model's own objective), accuracy and per-class accuracy in eval mode, at the precision the model trains in."""
    was_training = module.training
    module.eval()
    loss_sum, correct = 0.0, torch.zeros(num_classes, device=labels.device)
    for start in range(0, len(labels), batch_size):
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
    random_state: tuple[torch.Tensor, ...]  # this model's own stream of torch's global generator (dropout), see _own_random_stream
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

    @property
    def train(self) -> TrainConfig:
        return self.contender.spec.train


def _random_state(device: torch.device) -> tuple[torch.Tensor, ...]:
    if device.type == "cuda":
        return torch.get_rng_state(), torch.cuda.get_rng_state(device)
    if device.type == "mps":
        return torch.get_rng_state(), torch.mps.get_rng_state()
    return (torch.get_rng_state(),)


@contextmanager
def _own_random_stream(p: _Progress, device: torch.device) -> Iterator[None]:
    """Dropout draws from torch's global generator. Each model gets a stream of its own, all seeded alike, so models of
    the same architecture draw the same masks for the same batch, and one model's draws never shift another's."""
    torch.set_rng_state(p.random_state[0])
    if device.type == "cuda":
        torch.cuda.set_rng_state(p.random_state[1], device)
    elif device.type == "mps":
        torch.mps.set_rng_state(p.random_state[1])
    try:
        yield
    finally:
        p.random_state = _random_state(device)


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


def train_models(
    contenders: Sequence[Contender],
    run: RunConfig,
    data: Dataset,
    stop: threading.Event | None = None,
    epochs: int | None = None,
) -> Iterator[Event]:
    """Train the contenders in lockstep on ``data`` and yield an event per step, per evaluation and at the end.

    Each contender trains ``epochs`` more epochs (default: its config's) from
    where it stands: fresh models from scratch, trained ones continue with
    their weights and optimizer state (one stopped mid-epoch first finishes
    that epoch, from the image where it stopped).
    """
    tune_allocator()
    stop = stop or threading.Event()
    device = resolve_device(run.device)
    dtype = resolve_precision(run.precision, device)
    data = data.subset(run.train_subset, run.seed)
    for c in contenders:
        run.check_fits(c.spec.train, len(data.train_labels), c.name)
        if c.spec.model.input_shape != data.image_shape:
            raise ConfigError(f"model {c.name}: input shape {c.spec.model.input_shape} does not match the data's {data.image_shape}", "input_shape")
    data = data.hold_out(run.validation_size, run.seed)

    train_x, train_y = data.train_images.to(device), data.train_labels.to(device)
    test_x, test_y = data.test_images.to(device), data.test_labels.to(device)
    val_x, val_y = (data.validation_images.to(device), data.validation_labels.to(device)) if data.validation_size else (None, None)
    n = len(train_y)
    eval_batch = EVAL_BATCH_CPU if device.type == "cpu" else EVAL_BATCH_ACCELERATOR
    num_classes = len(data.info.class_names)

    torch.manual_seed(run.seed)
    permutations: dict[int, torch.Tensor] = {}  # epoch -> order; the same for every model

    def permutation(epoch: int) -> torch.Tensor:
        if epoch not in permutations:
            permutations[epoch] = torch.randperm(n, generator=torch.Generator().manual_seed(run.seed * 1009 + epoch)).to(device)
        return permutations[epoch]

    progress = []
    for c in contenders:
        c.module.to(device, memory_format=torch.channels_last).train()
        for later in [e for e in c.checkpoints if e > c.epochs_done]:
            del c.checkpoints[later]  # continuing after a roll-back starts a new branch
        train = c.spec.train
        run_epochs = epochs or train.epochs
        steps_per_epoch = math.ceil(n / train.batch_size)
        position = c.position if c.position < n else 0  # resume an epoch a stop cut short
        optimizer = make_optimizer(train, c.module.parameters())
        if c.optimizer_state is not None:  # keep what the optimizer learnt (momenta), not its old rates; a copy, so checkpoints stay as saved
            optimizer.load_state_dict({"state": _to_cpu(c.optimizer_state["state"]), "param_groups": optimizer.state_dict()["param_groups"]})
        scheduler = make_scheduler(train, optimizer, steps_per_epoch, run_epochs)
        augment_rng = torch.Generator().manual_seed(run.seed + 1 + c.epochs_done)  # same draws for every model: same augmented images
        total_steps = math.ceil((n - position) / train.batch_size) + steps_per_epoch * (run_epochs - 1)
        p = _Progress(
            c, optimizer, scheduler, c.normalization(data.info), augment_rng, _random_state(device),
            steps_per_epoch, total_steps, c.epochs_done + run_epochs, c.epochs_done + 1, position,
        )  # fmt: skip
        saved = c.checkpoints.get(c.epochs_done)
        if saved is not None:  # a continued run remembers how good the model already was
            p.best_score, p.best_epoch = _monitored(train, saved.validation_loss, saved.validation_accuracy), c.epochs_done
        progress.append(p)

    def evaluate_progress(p: _Progress) -> EvalEvent:
        c = p.contender

        def scores(x: torch.Tensor, y: torch.Tensor) -> tuple[float, float, tuple[float, ...]]:
            return evaluate(c.module, x, y, p.normalization, p.train, num_classes, eval_batch, dtype)

        test_loss, c.test_accuracy, per_class = scores(test_x, test_y) if len(test_y) else (None, None, ())
        if val_y is not None:
            c.validation_loss, c.validation_accuracy, _ = scores(val_x, val_y)
        p.evaluated_at = p.step
        return EvalEvent(c.name, p.epoch, p.step, test_loss, c.test_accuracy, per_class, p.train_time_s, c.validation_loss, c.validation_accuracy, c.images_seen)

    yield RunStarted(device_label(device), precision_name(dtype), data.source, n, {p.contender.name: p.total_steps for p in progress}, data.validation_size)
    started = time.perf_counter()
    reason = "finished"
    while True:
        running = [p for p in progress if p.status == "running"]
        if not running:
            break
        if stop.is_set():
            reason = "stopped"
            break
        p = min(running, key=lambda q: q.run_images)  # min() keeps the first on ties
        c = p.contender
        index = permutation(p.epoch)[p.position : p.position + p.train.batch_size]
        tick = time.perf_counter()
        try:
            x = prepare_batch(train_x[index], *p.normalization, p.augment_rng, p.train.augment)
            y = train_y[index]
            with _own_random_stream(p, device), torch.autocast(device.type, dtype=torch.bfloat16, enabled=dtype == torch.bfloat16):
                logits = c.module(x)
            loss = per_sample_loss(p.train, logits.float(), y).mean()
            loss_value, correct = torch.stack([loss.detach(), (logits.argmax(1) == y).sum().float()]).tolist()
            if not math.isfinite(loss_value):
                p.status = "failed"
                yield ModelFailed(
                    c.name,
                    p.step + 1,
                    f"Model {c.name}: the loss became {loss_value} at step {p.step + 1} (epoch {p.epoch}); "
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
            yield ModelFailed(c.name, p.step + 1, f"Model {c.name}: out of memory at batch size {p.train.batch_size}; training of this model stopped. Try a smaller batch or model.")
            continue
        p.train_time_s += time.perf_counter() - tick
        batch = len(index)
        p.step += 1
        p.position += batch
        p.run_images += batch
        c.steps += 1
        c.images_seen += batch
        p.epoch_correct += int(correct)
        p.epoch_images += batch
        yield StepEvent(
            c.name,
            p.epoch,
            p.step,
            p.total_steps,
            loss_value,
            p.epoch_correct / p.epoch_images,
            learning_rate,
            p.run_images / p.train_time_s if p.train_time_s > 0 else 0.0,
            c.images_seen,
        )
        if p.position * run.evals_per_epoch // n > (p.position - batch) * run.evals_per_epoch // n:
            yield evaluate_progress(p)  # crossed one of the epoch's evaluation points (the last is its end)
        if p.position >= n:
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

    if reason == "stopped":  # a stopped model is still worth a score: evaluate what it learnt since its last epoch
        for p in progress:
            if p.status == "running" and p.step > p.evaluated_at:
                yield evaluate_progress(p)

    results = {}
    for p in progress:
        c = p.contender
        c.module.eval()
        if p.status == "running":  # stopped mid-epoch: a later run resumes at this image of the epoch
            c.position = p.position
        if not p.restored_best:  # going back to the best epoch restored that epoch's optimizer state too
            c.optimizer_state = _to_cpu(p.optimizer.state_dict())
        status = "stopped" if p.status == "running" else p.status
        speed = p.run_images / p.train_time_s if p.train_time_s > 0 else 0.0
        results[c.name] = ModelResult(status, p.step, p.run_images, p.train_time_s, speed, c.test_accuracy, c.validation_accuracy, c.epochs_done)
    yield RunFinished(reason, time.perf_counter() - started, results)


# ---------------------------------------------------------------- cross-validation

MAX_FOLDS = 10


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
        raise ConfigError(f"folds must be a whole number from 2 to {MAX_FOLDS}, got {folds!r}", "folds")
    images = run.training_images(train_size)
    if images < 2 * folds:
        raise ConfigError(f"cross-validation needs at least {2 * folds} training images for {folds} folds, got {images}", "train_subset")
    spec = replace(spec, train=replace(spec.train, early_stopping="off"))
    replace(run, validation_size=0).check_fits(spec.train, images - math.ceil(images / folds))
    return spec


def estimate_cross_validation_s(spec: ModelSpec, run: RunConfig, data: Dataset, folds: int, timing_batches: int = 8) -> float:
    """Seconds k-fold cross-validation will take here, from a few timed training batches (a rough, slightly high estimate)."""
    data = data.subset(run.train_subset, run.seed)
    n = len(data.train_labels)
    batch = spec.train.batch_size
    sample = data.subset(min(n, batch * timing_batches), run.seed + 3)
    probe = Contender.create("timing", spec, run.seed)
    timing_run = replace(run, train_subset=None, validation_size=0, evals_per_epoch=1)
    finished = [e for e in train_models([probe], timing_run, sample.without_test(), epochs=1) if isinstance(e, RunFinished)][0]
    if finished.results["timing"].status == "failed":
        raise ConfigError(f"the model could not train {timing_batches} timing batches (out of memory or a diverging loss); try a smaller batch, model or learning rate", "batch_size")
    seconds_per_image = 1 / finished.results["timing"].images_per_s
    train_images = n * (folds - 1) / folds * spec.train.epochs
    validation_images = n / folds * spec.train.epochs * run.evals_per_epoch
    return folds * seconds_per_image * (train_images + validation_images / 3)  # a forward pass costs about a third of a step


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
