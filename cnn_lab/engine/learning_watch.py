"""Spotting a model that is not learning, and saying why in words a newcomer can act on.

A model whose loss stays at chance level (what a model that guesses
uniformly scores: ln 10 = 2.30 for ten classes with cross-entropy) or whose
accuracy stays near 1 / classes for a sustained stretch has not learnt;
nor has one whose loss grew by a large factor from its best. The watch
reads the loss and accuracy the trainer already has for every step, so it
costs a few float operations per step.
"""

from __future__ import annotations

import math

from cnn_lab.core.config import BatchNorm, ModelConfig, TrainConfig
from cnn_lab.core.events import LearningAlert

STALL_STEPS = 300  # a stretch at chance this long is not a slow start (the slowest learning start measured: see docs/architectures.md)
GROWTH_STEPS = 50  # a grown loss must stay grown this long: one bad batch is not divergence
GROWTH_FACTOR = 4.0
SMOOTHING = 0.95  # of the per-step loss and accuracy (about the last 20 steps)
NEAR_CHANCE_LOSS = 0.05  # within 5 % of the chance loss
NEAR_CHANCE_ACCURACY = 2.0  # below twice the accuracy of guessing


class LearningWatch:
    """Follows one model's steps and raises a LearningAlert when it stalls at chance or its loss blows up."""

    def __init__(self, name: str, train: TrainConfig, model: ModelConfig, num_classes: int, chance_loss: float):
        self.name, self.train, self.model = name, train, model
        self.chance_loss, self.chance_accuracy = chance_loss, 1 / num_classes
        self.loss: float | None = None  # smoothed
        self.accuracy = 0.0  # smoothed
        self.best_loss = math.inf
        self.stalled_since: int | None = None  # first step of the current stretch at chance
        self.grown_since: int | None = None
        self.alert: LearningAlert | None = None  # the last "not learning" alert while it holds

    def observe(self, step: int, loss: float, accuracy: float) -> LearningAlert | None:
        """Fold in one step (its batch's loss and accuracy); return an alert when the model's state changes."""
        if self.loss is None:
            self.loss, self.accuracy = loss, accuracy
        else:
            self.loss = SMOOTHING * self.loss + (1 - SMOOTHING) * loss
            self.accuracy = SMOOTHING * self.accuracy + (1 - SMOOTHING) * accuracy
        self.best_loss = min(self.best_loss, self.loss)
        at_chance = self._loss_at_chance() or self.accuracy <= NEAR_CHANCE_ACCURACY * self.chance_accuracy
        grown = self.loss >= GROWTH_FACTOR * self.best_loss and self.loss >= self.chance_loss / 2
        self.stalled_since = (self.stalled_since or step) if at_chance else None
        self.grown_since = (self.grown_since or step) if grown else None
        if self.alert is None:
            if self.stalled_since is not None and step - self.stalled_since + 1 >= STALL_STEPS:
                self.alert = LearningAlert(self.name, step, False, self._stalled_message(step))
                return self.alert
            if self.grown_since is not None and step - self.grown_since + 1 >= GROWTH_STEPS:
                self.alert = LearningAlert(self.name, step, False, self._grown_message())
                return self.alert
        elif not at_chance and not grown:
            self.alert = None
            return LearningAlert(
                self.name,
                step,
                True,
                f"Model {self.name} is learning again (step {step}: loss {self.loss:.2f}, accuracy {self.accuracy:.0%}).",
            )
        return None

    def verdict(self, step: int) -> str | None:
        """Why the model is not learning as of ``step`` (None while it learns), a stall counted up to ``step``.

        The run's one verdict, that the results table, the status line, the coach and the log all say: a run that
        ends at chance is not learning, even when it ended before a stall was long enough to raise an alert."""
        if self.stalled_since is not None:
            return self._stalled_message(step)
        return None if self.alert is None else self.alert.message

    def _loss_at_chance(self) -> bool:
        return abs(self.loss - self.chance_loss) <= NEAR_CHANCE_LOSS * self.chance_loss

    def _stalled_message(self, step: int) -> str:
        steps = step - self.stalled_since + 1
        what = (
            f"its loss has stayed at {self.loss:.2f} (chance: {self.chance_loss:.2f})"
            if self._loss_at_chance()
            else f"its training accuracy has stayed at {self.accuracy:.0%} (guessing scores {self.chance_accuracy:.0%})"
        )
        return f"Model {self.name} is not learning: {what} for {steps} steps. {likely_cause(self.train, self.model)}"

    def _grown_message(self) -> str:
        return (
            f"Model {self.name} is not learning any more: its loss has grown from {self.best_loss:.2f} to {self.loss:.2f}. "
            f"{likely_cause(self.train, self.model)}"
        )


def likely_cause(train: TrainConfig, model: ModelConfig) -> str:
    """The usual reason a model with these settings does not learn, and what to try first."""
    lr, optimizer = train.learning_rate, train.optimizer
    batch_norm = any(isinstance(layer, BatchNorm) for layer in model.layers)
    plain = "a net like this one" if batch_norm else "a plain ReLU net like this one"
    if train.loss == "mse":
        return "MSE on softmax outputs has almost no gradient when the model is confidently wrong; try cross-entropy."
    if optimizer == "sgd" and lr > 0.02:
        return f"SGD at {lr:g} with momentum {train.momentum:g} can stall {plain}; try {0.01 if lr <= 0.1 else lr / 10:g}{'' if batch_norm else ', or batch norm'}."
    if optimizer in ("adam", "adamw", "rmsprop") and lr > 0.005:
        return f"{optimizer.capitalize() if optimizer != 'rmsprop' else 'RMSprop'} at {lr:g} can push {plain} into dead units; try 0.001{'' if batch_norm else ', or batch norm'}."
    if (optimizer == "sgd" and lr <= 2e-3) or (optimizer != "adadelta" and lr < 1e-4):
        return f"A learning rate of {lr:g} moves the weights very slowly; try 10 times higher."
    if train.schedule in ("onecycle",) or train.warmup_epochs:
        return "The schedule's peak rate may be too high for this net; try a lower learning rate."
    return f"Try a learning rate about 10 times lower ({lr / 10:g}){'' if batch_norm else ', or batch norm'}."
