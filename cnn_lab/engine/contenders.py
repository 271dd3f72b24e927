"""The models being compared: each with its weights, optimizer state, history and per-epoch checkpoints."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from cnn_lab.core.config import ConfigError, ModelSpec, RunConfig
from cnn_lab.data.datasets import DatasetInfo
from cnn_lab.engine.limits import CHECKPOINT_BUDGET_BYTES
from cnn_lab.engine.models import build_model


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
    test_images: int = 0  # the test images ``test_accuracy`` was scored on (a part of the test split mid-run)


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
    test_images: int = 0  # the test images ``test_accuracy`` was scored on: all of the split, or a part mid-run
    validation_loss: float | None = None
    validation_accuracy: float | None = None
    epochs_done: int = 0
    position: int = 0  # images of the next epoch already trained (after a stop mid-epoch); a later run resumes there
    images_seen: int = 0
    steps: int = 0
    optimizer_state: dict | None = None
    checkpoints: dict[int, Checkpoint] = field(default_factory=dict)
    checkpoint_budget_bytes: int = CHECKPOINT_BUDGET_BYTES  # the server's cap (a public one keeps fewer epochs)
    initial_weights: dict[str, torch.Tensor] | None = None  # as created, before any step (None: imported from a file)

    @classmethod
    def create(cls, name: str, spec: ModelSpec, seed: int = 0) -> Contender:
        module = build_model(spec.model, torch.Generator().manual_seed(seed))
        return cls(name, spec, module, initial_weights=to_cpu(module.state_dict()))

    def normalization(self, info: DatasetInfo) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """The per-channel (mean, std) this model's inputs are normalised with: the dataset's, or (0, 1) with
        normalisation off."""
        if not self.spec.train.normalize:
            return (0.0,) * len(info.mean), (1.0,) * len(info.std)
        return info.mean, info.std

    def save_checkpoint(self, optimizer: torch.optim.Optimizer, keep: set[int] = frozenset()) -> None:
        """Keep this epoch; over ``checkpoint_budget_bytes``, drop the oldest epochs except this one and those in
        ``keep``."""
        self.checkpoints[self.epochs_done] = Checkpoint(
            self.epochs_done,
            self.images_seen,
            self.steps,
            to_cpu(self.module.state_dict()),
            to_cpu(optimizer.state_dict()),
            self.test_accuracy,
            self.validation_loss,
            self.validation_accuracy,
            self.test_images,
        )
        sizes = {epoch: checkpoint_size(saved) for epoch, saved in self.checkpoints.items()}
        for epoch in sorted(sizes):
            if sum(sizes.values()) <= self.checkpoint_budget_bytes:
                break
            if epoch != self.epochs_done and epoch not in keep:
                del self.checkpoints[epoch], sizes[epoch]

    def restore(self, epoch: int) -> None:
        """Go back (or forward) to the checkpoint of ``epoch``; a later run continues from there."""
        if epoch not in self.checkpoints:
            kept = ", ".join(map(str, sorted(self.checkpoints))) or "none yet"
            raise ConfigError(
                f"model {self.name}: epoch must be one of the saved epochs ({kept}), got {epoch}", "epoch"
            )
        saved = self.checkpoints[epoch]
        self.module.load_state_dict(saved.weights)
        self.optimizer_state = saved.optimizer_state
        self.epochs_done, self.position, self.images_seen, self.steps = saved.epoch, 0, saved.images_seen, saved.steps
        self.test_accuracy, self.test_images = saved.test_accuracy, saved.test_images
        self.validation_loss, self.validation_accuracy = saved.validation_loss, saved.validation_accuracy


def create_contenders(
    specs: dict[str, ModelSpec], run: RunConfig, checkpoint_budget_bytes: int = CHECKPOINT_BUDGET_BYTES
) -> list[Contender]:
    """Fresh models for a run; with ``identical_init``, models of the same architecture start from the same weights."""
    contenders = [
        Contender.create(name, spec, run.seed if run.identical_init else run.seed + index)
        for index, (name, spec) in enumerate(specs.items())
    ]
    for contender in contenders:
        contender.checkpoint_budget_bytes = checkpoint_budget_bytes
    return contenders


def checkpoint_size(saved: Checkpoint) -> int:
    """Bytes a saved epoch holds: its weights and its optimizer's state."""
    tensors = list(saved.weights.values()) + [
        v for s in saved.optimizer_state.get("state", {}).values() for v in s.values() if isinstance(v, torch.Tensor)
    ]
    return sum(t.numel() * t.element_size() for t in tensors)


def to_cpu(state: object) -> object:
    """A deep copy on the CPU: a checkpoint must not change with the live model, nor hold accelerator memory."""
    if isinstance(state, torch.Tensor):
        return state.detach().to("cpu", copy=True)
    if isinstance(state, dict):
        return {k: to_cpu(v) for k, v in state.items()}
    if isinstance(state, list):
        return [to_cpu(v) for v in state]
    return state
