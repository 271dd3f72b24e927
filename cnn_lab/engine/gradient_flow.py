"""How gradients flow through a model while it trains: each layer's gradient norm and each ReLU's dead units, recorded
on sampled steps only (so it costs about nothing), and what they say in plain words.

A layer whose gradient is thousands of times smaller than the classifier's barely learns (vanishing gradients);
norms in the thousands mean steps that overshoot (exploding); a ReLU unit that is zero for every image of a batch
passes no gradient at all and may never come back (dead ReLU).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import torch
from torch import nn

from cnn_lab.core.events import GradientEvent

GRADIENT_EVERY = 25  # record on the first step and every 25th after it
VANISHING = 1e-3  # a layer's norm below this share of the largest layer's norm
EXPLODING = 1e3  # a layer's gradient norm above this
DEAD = 0.5  # a ReLU layer with at least this share of its units silent on a whole batch


def sampled(step: int, every: int = GRADIENT_EVERY) -> bool:
    """Whether step ``step`` (1-based) is recorded; ``every`` 0 records none."""
    return every > 0 and (step - 1) % every == 0


@contextmanager
def watching_relus(module: nn.Module) -> Iterator[dict[str, float]]:
    """While open, each ReLU layer's share of units (channel and position) that are zero for every image of the
    batch goes into the yielded dict."""
    dead: dict[str, float] = {}

    def record(name: str):
        def hook(_module, _inputs, out: torch.Tensor) -> None:
            # units last, as channels_last stores them: the batch is the outer dimension of one contiguous block,
            # and the maximum over it is 15x faster than any() on the 4-D tensor (measured on a 2-core CPU)
            flat = out.detach().movedim(1, -1).reshape(len(out), -1)
            dead[name] = (flat.amax(dim=0) <= 0).float().mean()  # a tensor: read after the step, in one transfer

        return hook

    hooks = [
        layer.register_forward_hook(record(name))
        for name, layer in module.named_children()
        if isinstance(layer, nn.ReLU)
    ]
    try:
        yield dead
    finally:
        for hook in hooks:
            hook.remove()


def gradient_norms(module: nn.Module) -> dict[str, torch.Tensor]:
    """Each layer's gradient norm (all of its parameters together), as tensors still on the device."""
    norms = {}
    for name, layer in module.named_children():
        grads = [p.grad for p in layer.parameters() if p.grad is not None]
        if grads:
            norms[name] = torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))
    return norms


def gradient_event(
    model: str, step: int, images_seen: int, norms: dict[str, torch.Tensor], dead: dict[str, torch.Tensor]
) -> GradientEvent:
    """The sampled step's figures as plain numbers (one transfer from the device for all of them)."""
    values = torch.stack([*norms.values(), *dead.values()]).float().tolist() if norms or dead else []
    return GradientEvent(
        model,
        step,
        images_seen,
        dict(zip(norms, values[: len(norms)], strict=True)),
        dict(zip(dead, values[len(norms) :], strict=True)),
    )


def gradient_health(events: Sequence[GradientEvent]) -> list[str]:
    """What one model's recorded gradients say, in words (nothing when they look healthy). Vanishing is judged over
    the last few samples (the median), exploding and dead ReLUs on the latest."""
    if not events:
        return []
    model, latest, recent = events[-1].model, events[-1], events[-5:]
    said = []
    ratios = {
        layer: sorted(e.norms[layer] / max(max(e.norms.values()), 1e-30) for e in recent)[len(recent) // 2]
        for layer in latest.norms
        if all(layer in e.norms for e in recent)
    }
    weakest = min(ratios, key=ratios.get, default=None)
    if weakest is not None and ratios[weakest] < VANISHING:
        strongest = max(latest.norms, key=latest.norms.get)
        said.append(
            f"Model {model}: gradients vanish. {weakest} gets about 1/{1 / max(ratios[weakest], 1e-30):,.0f} of the "
            f"gradient {strongest} gets, so it barely learns. ReLU instead of sigmoid or tanh, batch norm or fewer "
            "layers help."
        )
    largest = max(latest.norms, key=latest.norms.get, default=None)
    if largest is not None and not (math.isfinite(latest.norms[largest]) and latest.norms[largest] <= EXPLODING):
        said.append(
            f"Model {model}: gradients explode. {largest}'s gradient norm is {latest.norms[largest]:,.0f} at step "
            f"{latest.step}. A lower learning rate or batch norm help."
        )
    for layer, share in latest.dead.items():
        if share >= DEAD:
            said.append(
                f"Model {model}: {share:.0%} of {layer}'s units were zero for every image of the batch at step "
                f"{latest.step} (dead ReLUs pass no gradient). A lower learning rate or leaky ReLU help."
            )
    return said
