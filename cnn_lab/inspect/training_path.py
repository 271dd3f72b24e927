"""How training moved each model's weights: per-layer histograms of weights and gradients at every saved epoch, the
first layer's filters as they changed, and the loss along the straight line from the first weights to the last.

The histograms show a layer's weights spreading as it learns (or dying,
or exploding); the gradients, taken on the same fixed batch at every epoch,
shrink as the loss flattens. The 1-D interpolation (Goodfellow, Vinyals and
Saxe, 2015) evaluates the loss at (1 - a) * first + a * last for a from
-0.25 to 1.25: a smooth valley says training went far and straight, a bump
on the way says it went around something.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from cnn_lab.data.datasets import Dataset
from cnn_lab.engine.contenders import Contender
from cnn_lab.engine.training import prepare_batch, test_part

HISTOGRAM_BINS = 30
GRADIENT_IMAGES = 256  # the fixed training batch every epoch's gradients are taken on
LINE_POINTS = 13  # a from -0.25 to 1.25 in steps of 0.125
LINE_IMAGES = 500  # training and test images the loss along the line is measured on


@dataclass(frozen=True)
class LayerHistograms:
    """One layer's weights and gradients at each epoch, counted in bins shared by all its epochs."""

    layer: str
    weight_edges: np.ndarray
    weight_counts: dict[int, np.ndarray]
    gradient_edges: np.ndarray
    gradient_counts: dict[int, np.ndarray]
    weight_std: dict[int, float]
    gradient_norm: dict[int, float]


@dataclass(frozen=True)
class WeightHistory:
    """A model's layers over its saved epochs (0: as created), and its first convolution's filters at each."""

    epochs: list[int]
    layers: list[LayerHistograms]
    first_filters: dict[int, np.ndarray]  # (out, k, k) per epoch, summed over input channels; {} without a conv

    def as_data(self) -> dict:
        """Plain JSON: epochs as keys are strings ("0": as created)."""
        return {
            "epochs": self.epochs,
            "layers": [
                {
                    "layer": h.layer,
                    "weight_edges": h.weight_edges.tolist(),
                    "weight_counts": {str(e): c.tolist() for e, c in h.weight_counts.items()},
                    "gradient_edges": h.gradient_edges.tolist(),
                    "gradient_counts": {str(e): c.tolist() for e, c in h.gradient_counts.items()},
                    "weight_std": {str(e): v for e, v in h.weight_std.items()},
                    "gradient_norm": {str(e): v for e, v in h.gradient_norm.items()},
                }
                for h in self.layers
            ],
        }


def saved_states(contender: Contender) -> dict[int, dict[str, torch.Tensor]]:
    """The model's weights by epoch: 0 as created (when known), then every checkpoint kept."""
    states = {0: contender.initial_weights} if contender.initial_weights is not None else {}
    states |= {epoch: saved.weights for epoch, saved in sorted(contender.checkpoints.items())}
    return states


def _model_at(contender: Contender, state: dict[str, torch.Tensor]) -> nn.Module:
    module = copy.deepcopy(contender.module).cpu().float()
    module.load_state_dict(state)
    return module.eval()


def weight_history(contender: Contender, data: Dataset) -> WeightHistory:
    """Histograms of every convolution's and linear layer's weights and gradients at each saved epoch."""
    states = saved_states(contender)
    mean, std = contender.normalization(data.info)
    x = prepare_batch(data.train_images[:GRADIENT_IMAGES], mean, std)
    y = data.train_labels[:GRADIENT_IMAGES]
    weights: dict[str, dict[int, np.ndarray]] = {}
    gradients: dict[str, dict[int, np.ndarray]] = {}
    filters = {}
    for epoch, state in states.items():
        module = _model_at(contender, state)
        module.zero_grad()
        F.cross_entropy(module(x), y).backward()
        first = True
        for name, layer in module.named_modules():
            if not isinstance(layer, (nn.Conv2d, nn.Linear)):
                continue
            weights.setdefault(name, {})[epoch] = layer.weight.detach().flatten().numpy()
            gradients.setdefault(name, {})[epoch] = layer.weight.grad.detach().flatten().numpy()
            if first and isinstance(layer, nn.Conv2d):
                filters[epoch] = layer.weight.detach().sum(1).numpy()  # over input channels, as Inspect shows them
            first = False
    layers = []
    for name in weights:
        w_edges = np.histogram_bin_edges(np.concatenate(list(weights[name].values())), HISTOGRAM_BINS)
        g_edges = np.histogram_bin_edges(np.concatenate(list(gradients[name].values())), HISTOGRAM_BINS)
        layers.append(
            LayerHistograms(
                name,
                w_edges,
                {e: np.histogram(v, w_edges)[0] for e, v in weights[name].items()},
                g_edges,
                {e: np.histogram(v, g_edges)[0] for e, v in gradients[name].items()},
                {e: round(float(v.std()), 6) for e, v in weights[name].items()},
                {e: round(float(np.linalg.norm(v)), 6) for e, v in gradients[name].items()},
            )
        )
    return WeightHistory(list(states), layers, filters)


def _between(first: dict[str, torch.Tensor], last: dict[str, torch.Tensor], a: float) -> dict[str, torch.Tensor]:
    """The state at a along the line; counters as they end, variances kept above zero past the line's ends."""
    state = {}
    for key, end in last.items():
        if not end.is_floating_point():
            state[key] = end
            continue
        value = (1 - a) * first[key] + a * end
        state[key] = value.clamp_min(1e-5) if key.endswith("running_var") else value
    return state


@dataclass(frozen=True)
class LossLine:
    """The loss (and accuracy) along the line from the first weights (a = 0) to the last (a = 1), past both ends."""

    alphas: list[float]
    train_loss: list[float]
    test_loss: list[float]
    test_accuracy: list[float]
    distance: float  # the L2 length of the line in weight space

    def as_data(self) -> dict:
        return {
            "alphas": self.alphas,
            "train_loss": self.train_loss,
            "test_loss": self.test_loss,
            "test_accuracy": self.test_accuracy,
            "distance": self.distance,
        }


def loss_line(contender: Contender, data: Dataset, points: int = LINE_POINTS, seed: int = 0) -> LossLine | None:
    """The loss at (1 - a) * first + a * last weights (batch-norm statistics too) for a from -0.25 to 1.25; None when
    the first weights are not known (a model imported from a file)."""
    if contender.initial_weights is None:
        return None
    first, last = contender.initial_weights, {k: v.detach().cpu() for k, v in contender.module.state_dict().items()}
    mean, std = contender.normalization(data.info)
    train_x = prepare_batch(data.train_images[:LINE_IMAGES], mean, std)
    train_y = data.train_labels[:LINE_IMAGES]
    part = test_part(data.test_labels, LINE_IMAGES, seed)
    test_x, test_y = prepare_batch(data.test_images[part], mean, std), data.test_labels[part]
    module = _model_at(contender, first)
    alphas = np.linspace(-0.25, 1.25, points).round(4).tolist()
    found: dict[str, list[float]] = {"train": [], "test": [], "accuracy": []}
    with torch.inference_mode():
        for a in alphas:
            module.load_state_dict(_between(first, last, a))
            found["train"].append(round(float(F.cross_entropy(module(train_x), train_y)), 5))
            logits = module(test_x)
            found["test"].append(round(float(F.cross_entropy(logits, test_y)), 5))
            found["accuracy"].append(round(float((logits.argmax(1) == test_y).float().mean()), 4))
    distance = float(
        torch.sqrt(sum(((last[k].float() - first[k].float()) ** 2).sum() for k in last if first[k].is_floating_point()))
    )
    return LossLine(alphas, found["train"], found["test"], found["accuracy"], round(distance, 4))
