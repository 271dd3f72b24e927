"""Warnings a setting earns before any training: what is likely to go wrong, why, and what to change.

Each rule reads one model's settings (and the data's shape); none of them fires on the page's defaults (a test
checks it). The one that needs a measurement, a long run on a CPU, times a few real batches, and only when the
epochs make a long run possible at all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from cnn_lab.core.config import BatchNorm, Conv, ModelSpec, Pool, RunConfig
from cnn_lab.views.run_view import duration_text

SGD_HIGH_RATE = 0.3  # SGD above this usually diverges on these networks (0.01-0.1 is the usual range)
ADAM_HIGH_RATE = 0.01  # Adam, AdamW and RMSprop above this often diverge or stall (0.001 is the usual start)
SMALL_BN_BATCH = 4  # batch norm's mean and std from fewer images than this are mostly noise
LONG_RUN_S = 600  # warn when a run is estimated to take longer than this
LONG_RUN_EPOCHS = 10  # below this many epochs no run here takes LONG_RUN_S: not worth timing


@dataclass(frozen=True)
class Advice:
    """One warning: the setting it is about, what is wrong and why, and a fix."""

    field: str
    problem: str
    fix: str
    troubleshooting: str  # the entry of the Learn tab's troubleshooting guide it links to

    def text(self) -> str:
        return f"⚠ **{self.problem}** {self.fix}"


def _sgd_rate(spec: ModelSpec, _shape) -> Advice | None:
    t = spec.train
    if t.optimizer == "sgd" and t.learning_rate > SGD_HIGH_RATE:
        return Advice(
            "learning_rate",
            f"SGD at a learning rate of {t.learning_rate:g} will most likely diverge (the loss grows to NaN).",
            "SGD learns these networks at 0.01-0.1; try 0.05.",
            "loss-is-nan",
        )
    return None


def _adaptive_rate(spec: ModelSpec, _shape) -> Advice | None:
    t = spec.train
    if t.optimizer in ("adam", "adamw", "rmsprop") and t.learning_rate > ADAM_HIGH_RATE:
        return Advice(
            "learning_rate",
            f"{t.optimizer.capitalize()} at a learning rate of {t.learning_rate:g} often diverges or gets stuck "
            "(accuracy near chance).",
            "Start at 0.001; above 0.01 only with batch norm and a one-cycle schedule (the *99% in seconds* preset).",
            "stuck-at-chance",
        )
    return None


def _small_batch_norm(spec: ModelSpec, _shape) -> Advice | None:
    if spec.train.batch_size < SMALL_BN_BATCH and any(isinstance(layer, BatchNorm) for layer in spec.model.layers):
        return Advice(
            "batch_size",
            f"Batch norm with a batch of {spec.train.batch_size}: it standardises each channel with the batch's "
            "mean and std, and from so few images these are noise (with 1, every value becomes 0).",
            "Use a batch of 32 or more, or remove the batch-norm layers.",
            "stuck-at-chance",
        )
    return None


def _global_pooling(model) -> bool:
    """The last spatial layer pools a map of 3x3 or more to 1x1 with a window of 3 or more: global pooling, a choice
    (airbench ends with a 3x3 max-pool of its 4x4 map, the ResNets with an average over theirs), the convolutions
    before it having seen the layout."""
    rows = [(layer, shape) for layer, shape, _ in model.layer_table() if isinstance(layer, (Conv, Pool))]
    if len(rows) < 2 or not isinstance(rows[-1][0], Pool):
        return False
    pool, before = rows[-1][0], rows[-2][1][1:]
    return min(before) >= 3 and pool.kernel >= 3  # halving 2x2 poolings are what pool a map away by accident


def _one_by_one(spec: ModelSpec, shape) -> Advice | None:
    try:
        model = replace(spec.model, input_shape=shape)
        feature = model.feature_shape
    except ValueError:
        return None  # a stack that cannot be built says so itself
    spatial = any(isinstance(layer, (Conv, Pool)) for layer in model.layers)
    if spatial and len(feature) == 3 and feature[1:] == (1, 1) and not _global_pooling(model):
        return Advice(
            "layers",
            f"The last feature map is 1x1 ({feature[0]} channels): every position has been pooled away before "
            "the classifier, and the last layers see almost nothing of the image's layout.",
            "Remove a pooling layer, or use padding so the map stays at least 3x3.",
            "wrong-on-my-drawing",
        )
    return None


def _no_layers(spec: ModelSpec, shape) -> Advice | None:
    if spec.model.layers:
        return None
    return Advice(
        "layers",
        "This model has no layers: it trains only the classifier on the raw pixels (a linear model, logistic "
        "regression), about 92% on MNIST at best.",
        "Add layers in the builder (the palette under its list), or pick a preset or Custom.",
        "underfitting",
    )


RULES: tuple[Callable[[ModelSpec, tuple[int, int, int]], Advice | None], ...] = (
    _no_layers,
    _sgd_rate,
    _adaptive_rate,
    _small_batch_norm,
    _one_by_one,
)


def advice_for(spec: ModelSpec, input_shape: tuple[int, int, int] = (1, 28, 28)) -> list[Advice]:
    """Every warning one model's settings earn on images of ``input_shape``."""
    return [found for rule in RULES if (found := rule(spec, input_shape)) is not None]


def long_run(spec: ModelSpec, run: RunConfig, seconds_per_image: Callable[[], float], images: int) -> Advice | None:
    """A warning when the run will take long here: ``seconds_per_image`` times a few real batches (called only when
    the epochs could make a run long)."""
    if spec.train.epochs < LONG_RUN_EPOCHS:
        return None
    seconds = spec.train.epochs * images * seconds_per_image()
    if seconds <= LONG_RUN_S:
        return None
    return Advice(
        "epochs",
        f"{spec.train.epochs} epochs of {images:,} images will take about {duration_text(seconds)} here "
        "(timed on a few batches).",
        "Try 1-3 epochs first, or fewer training images; most of the accuracy comes in the first epochs.",
        "training-slow",
    )
