"""Why a model reads an image the way it does: where it looked (Captum's attributions), what each conv layer
produced (feature maps), and how strongly every layer responded.

Everything here reads a trained model without changing it: gradients are
taken with respect to the input only (the weights' .grad stay untouched),
and the model's train/eval mode is put back afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from cnn_lab.core.config import ConfigError
from cnn_lab.core.errors import quoted
from cnn_lab.data.datasets import DatasetInfo
from cnn_lab.engine.contenders import Contender
from cnn_lab.engine.models import ACTIVATION_MODULES
from cnn_lab.engine.training import prepare_batch

METHODS = ("saliency", "grad-cam", "occlusion")
METHOD_NOTES = {  # each finishes "bright where ..."
    "saliency": "a small change of the pixel would change the answer most (the input gradient's size)",
    "grad-cam": "the last conv layer's maps pushed towards the answer, place by place (HiResCAM, Grad-CAM's faithful "
    "form for a flatten-and-linear head; coarse: drawn from that layer's grid)",
    "occlusion": "blanking out a 4x4 patch lowers the answer's score most",
}
OCCLUSION_WINDOW, OCCLUSION_STRIDE = 4, 2


@dataclass(frozen=True)
class Explanation:
    """One model's answer for one image and what lies behind it."""

    probabilities: np.ndarray  # (classes,)
    target: int  # the class explained: the model's own guess
    method: str
    attribution: np.ndarray  # (H, W), >= 0, largest value 1 (all zero where nothing counted)
    feature_maps: dict[str, np.ndarray]  # conv layer name -> its output for this image, (C, h, w)
    activation_strength: dict[str, float]  # every layer's mean absolute output, in order
    filters: np.ndarray | None  # the first conv layer's kernels (see first_layer_filters)


@contextmanager
def evaluating(module: nn.Module) -> Iterator[None]:
    """``module`` in eval mode (dropout off, batch norm's running statistics), put back as it was afterwards."""
    was_training = module.training
    module.eval()
    try:
        yield
    finally:
        module.train(was_training)


def grad_cam_layer(module: nn.Module) -> nn.Module | None:
    """Grad-CAM's layer: the last conv layer's maps after its batch norm and activation, where those follow it (maps
    before the activation can be negative and cancel out); None for a model without a conv layer."""
    layers = list(module.children())
    convs = [k for k, layer in enumerate(layers) if isinstance(layer, nn.Conv2d)]
    if not convs:
        return None
    chosen = convs[-1]
    while chosen + 1 < len(layers) and isinstance(layers[chosen + 1], (nn.BatchNorm2d, *ACTIVATION_MODULES.values())):
        chosen += 1
    return layers[chosen]


def check_method(method: str, contenders: dict[str, Contender]) -> str:
    """``method`` if every model can be explained with it; a ConfigError naming the field otherwise."""
    if method not in METHODS:
        raise ConfigError(f"method must be one of {', '.join(METHODS)}, got {quoted(method)}", "method")
    if method == "grad-cam":
        for name, contender in contenders.items():
            if grad_cam_layer(contender.module) is None:
                raise ConfigError(
                    f"method grad-cam needs a conv layer, and model {name} has none: choose saliency or occlusion",
                    "method",
                )
    return method


def explain(contender: Contender, image: torch.Tensor, info: DatasetInfo, method: str) -> Explanation:
    """``contender``'s reading of one uint8 image, (H, W) grey or (C, H, W), with ``method``'s attribution for the class it chose."""
    module = contender.module
    device = next(module.parameters()).device
    mean, std = contender.normalization(info)
    x = prepare_batch(image[None], mean, std).to(device)
    outputs: dict[str, torch.Tensor] = {}
    hooks = [
        layer.register_forward_hook(lambda _m, _i, out, name=name: outputs.__setitem__(name, out.detach()))
        for name, layer in module.named_children()
    ]
    with evaluating(module):
        try:
            with torch.no_grad():
                probabilities = torch.softmax(module(x).float(), dim=1)[0].cpu().numpy()
        finally:
            for hook in hooks:
                hook.remove()
        target = int(probabilities.argmax())
        black = prepare_batch(torch.zeros_like(image[None]), mean, std).to(device)  # what occlusion covers with
        attribution = _attribute(module, x, target, method, blank=black)
    return Explanation(
        probabilities,
        target,
        method,
        attribution,
        {
            name: out[0].float().cpu().numpy()
            for name, out in outputs.items()
            if isinstance(getattr(module, name), nn.Conv2d)
        },
        {name: float(out.float().abs().mean()) for name, out in outputs.items()},
        first_layer_filters(module),
    )


def _attribute(module: nn.Module, x: torch.Tensor, target: int, method: str, blank: torch.Tensor) -> np.ndarray:
    """Captum's attribution of ``target`` over the input pixels, as evidence for it (>= 0), scaled to a maximum of 1."""
    from captum.attr import (  # imported on first use: training never needs it
        LayerGradientXActivation,
        Occlusion,
        Saliency,
    )

    x = x.clone().requires_grad_(True)
    if method == "saliency":
        found = Saliency(module).attribute(x, target=target, abs=True)
    elif method == "grad-cam":
        # HiResCAM: each map's gradient times the map, element by element, summed over channels. Grad-CAM averages
        # the gradient over the grid first, which assumes a global-pooling head: behind these models' flatten and
        # linear layer it lit the background on half of an Adam-trained default model's digits (ink share 0.14-0.39
        # of the evidence against 0.77-0.84 here, on 24 test digits, two seeds).
        layer = LayerGradientXActivation(module, grad_cam_layer(module))
        cam = layer.attribute(x, target=target).sum(1, keepdim=True).clamp(min=0)
        found = F.interpolate(cam, size=x.shape[-2:], mode="bilinear", align_corners=False)
    else:
        found = Occlusion(module).attribute(
            x,
            target=target,
            sliding_window_shapes=(x.shape[1], OCCLUSION_WINDOW, OCCLUSION_WINDOW),
            strides=(x.shape[1], OCCLUSION_STRIDE, OCCLUSION_STRIDE),
            baselines=blank,
        )
    evidence = found.detach()[0].sum(0).clamp(min=0).float().cpu().numpy()
    peak = float(evidence.max())
    return evidence / peak if peak > 0 else evidence


def first_layer_filters(module: nn.Module) -> np.ndarray | None:
    """The first conv layer's kernels as (filters, k, k), summed over input channels; None without a conv layer."""
    for layer in module.children():
        if isinstance(layer, nn.Conv2d):
            return layer.weight.detach().float().sum(1).cpu().numpy()
    return None
