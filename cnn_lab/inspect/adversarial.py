"""The smallest change to an image that flips a model's answer, and accuracy under a fixed budget of change.

Attacks are Captum's (``captum.robust``): FGSM (one step along the sign of
the loss's gradient) and PGD (several such steps, kept within the budget).
MinParamPerturbation searches the smallest budget that makes the model read
the image otherwise. Budgets are in pixel units: 0.2 lets every pixel of a
0-1 image move by at most 0.2 (the L-infinity norm), so the numbers compare
across models that normalise their inputs differently.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch
from captum.robust import FGSM, PGD, MinParamPerturbation
from torch import nn

from cnn_lab.core.errors import ConfigError, quoted
from cnn_lab.data.datasets import Dataset
from cnn_lab.engine.contenders import Contender
from cnn_lab.engine.training import per_channel, test_part

ATTACKS = ("fgsm", "pgd")
SEARCH_MAX = 1.0  # a budget of 1 may replace the image: every answer flips before
SEARCH_STEP = 0.002  # the binary search's resolution
ROUNDING_TRIES = 8  # budgets one 8-bit level apart tried past the search's edge until the shown image flips too
PGD_STEPS = 10
BUDGET = 0.2  # the fixed budget the test-set accuracy is measured under (MNIST models: 0.3 leaves none right)
BUDGET_IMAGES = 300
# PGD hands its own steps to FGSM without asking for their gradient; FGSM asks, and says so each time: noise in a log.
warnings.filterwarnings("ignore", message="Input Tensor 0 did not already require gradients", module="captum")


class InPixels(nn.Module):
    """The model as a function of pixels in [0, 1], its normalisation inside: attacks then move pixels."""

    def __init__(self, contender: Contender, data: Dataset):
        super().__init__()
        self.module = contender.module
        mean, std = contender.normalization(data.info)
        channels = data.image_shape[0]
        probe = torch.zeros(1, channels, 1, 1)
        self.register_buffer(
            "mean", torch.as_tensor(per_channel(mean, probe), dtype=torch.float32).reshape(1, -1, 1, 1)
        )
        self.register_buffer("std", torch.as_tensor(per_channel(std, probe), dtype=torch.float32).reshape(1, -1, 1, 1))

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        device = next(self.module.parameters()).device
        x = ((pixels - self.mean) / self.std).to(device).contiguous(memory_format=torch.channels_last)
        return self.module(x).float().cpu()


def margin_loss(logits: torch.Tensor, target: torch.Tensor | int) -> torch.Tensor:
    """Per image, the best wrong class's logit minus the right one's (Carlini and Wagner's margin): what an attack
    raises. Unlike cross-entropy it keeps its gradient when the model is sure (a softmax of exactly 1.0 in float32
    gives a loss of 0 and a gradient of 0, and the attack would not move), and Captum's default loss, -log of the
    output, is for models that output probabilities, not logits."""
    target = torch.as_tensor(target).reshape(-1).expand(logits.shape[0])
    right = logits.gather(1, target[:, None])[:, 0]
    wrong = logits.scatter(1, target[:, None], float("-inf")).amax(1)
    return wrong - right


def _attack(model: InPixels, kind: str):
    """perturb(inputs, epsilon, target) for either attack; PGD steps a quarter of the budget, ``PGD_STEPS`` times."""
    if kind == "fgsm":
        fgsm = FGSM(model, loss_func=margin_loss, lower_bound=0.0, upper_bound=1.0)
        return lambda inputs, epsilon, target: fgsm.perturb(inputs, epsilon, target)
    pgd = PGD(model, loss_func=margin_loss, lower_bound=0.0, upper_bound=1.0)
    return lambda inputs, epsilon, target: pgd.perturb(inputs, epsilon, epsilon / 4, PGD_STEPS, target)


@dataclass(frozen=True)
class Flip:
    """One model's smallest flipping change of one image: its size (None: no budget up to 1 flipped it), the changed
    image (uint8, as the model sees it), and the answers before and after."""

    epsilon: float | None
    perturbed: np.ndarray | None
    before: int
    after: int | None
    changed_pixels: float  # share of pixels that moved by more than 1/255


def _as_pixels(image: np.ndarray) -> torch.Tensor:
    x = torch.from_numpy(np.ascontiguousarray(image)).float().div(255)
    return x[None, None] if x.ndim == 2 else x[None]


def smallest_flip(contender: Contender, image: np.ndarray, data: Dataset, kind: str = "pgd") -> Flip:
    """The smallest L-infinity budget (in pixel units) at which ``kind`` makes the model read ``image`` otherwise."""
    if kind not in ATTACKS:
        raise ConfigError(f"attack must be one of {', '.join(ATTACKS)}, got {quoted(kind)}", "attack")
    model = InPixels(contender, data).eval()
    was_training = contender.module.training
    contender.module.eval()
    try:
        x = _as_pixels(image)
        with torch.no_grad():
            before = int(model(x).argmax(1))
        search = MinParamPerturbation(
            model, _attack(model, kind), "epsilon", 0.0, SEARCH_MAX, SEARCH_STEP, mode="binary"
        )
        perturbed, epsilon = search.evaluate(x, target=before, attack_kwargs={"target": before})
        if perturbed is None or epsilon is None:
            return Flip(None, None, before, None, 0.0)
        attack = _attack(model, kind)
        for _ in range(ROUNDING_TRIES):  # a change at the very edge may flip back once rounded to 8-bit pixels
            perturbed = (perturbed.detach().clamp(0, 1) * 255).round() / 255
            with torch.no_grad():
                after = int(model(perturbed).argmax(1))
            if after != before or epsilon >= SEARCH_MAX:
                break
            epsilon = min(SEARCH_MAX, epsilon + 1 / 255)
            perturbed = attack(x, epsilon, before)
        if after == before:
            return Flip(None, None, before, None, 0.0)
    finally:
        contender.module.train(was_training)
    moved = float(((perturbed - x).abs() > 1 / 255).float().mean())
    shown = (perturbed[0] * 255).round().to(torch.uint8).numpy()
    return Flip(float(epsilon), shown[0] if shown.shape[0] == 1 else shown, before, after, moved)


def accuracy_under_budget(
    contenders: Mapping[str, Contender],
    data: Dataset,
    kind: str = "pgd",
    budget: float = BUDGET,
    images: int = BUDGET_IMAGES,
    seed: int = 0,
) -> dict[str, dict[str, float]]:
    """Each model's accuracy on class-balanced test images as they are and attacked within ``budget``."""
    index = test_part(data.test_labels, images, seed)
    x = data.test_images[index].float().div(255)
    x = x.unsqueeze(1) if x.ndim == 3 else x
    labels = data.test_labels[index]
    found = {}
    for name, contender in contenders.items():
        model = InPixels(contender, data).eval()
        was_training = contender.module.training
        contender.module.eval()
        try:
            attack = _attack(model, kind)
            plain, attacked = [], []
            for start in range(0, len(labels), 100):
                batch, target = x[start : start + 100], labels[start : start + 100]
                with torch.no_grad():
                    plain.append(model(batch).argmax(1) == target)
                changed = attack(batch, budget, target)
                with torch.no_grad():
                    attacked.append(model(changed).argmax(1) == target)
        finally:
            contender.module.train(was_training)
        found[name] = {
            "plain": round(float(torch.cat(plain).float().mean()), 4),
            "attacked": round(float(torch.cat(attacked).float().mean()), 4),
        }
    return found
