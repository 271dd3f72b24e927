"""The benchmark's anchor: the peak it measures must cover the engine's own kernels, and an efficiency figure above
1.0 is reported as a wrong peak, never printed as a result."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from benchmarks.machine import AVX2_ONLY, machine_class
from benchmarks.peak import counted_flops, engine_kernels, over_one
from benchmarks.run import targets, verdict
from cnn_lab.core.config import ModelSpec
from cnn_lab.engine.models import build_model


def test_the_engines_own_convolutions_are_among_the_peaks_candidates():
    """Every convolution FLOP of a training step (forward, weight and input gradients; the first layer's input
    gradient is never computed) is in a candidate kernel, so no convolution of the engine can beat the peak."""
    model = build_model(ModelSpec().model).to(memory_format=torch.channels_last)
    x = torch.randn(64, 1, 28, 28).contiguous(memory_format=torch.channels_last)
    with FlopCounterMode(display=False) as counter:
        F.cross_entropy(model(x), torch.zeros(64, dtype=torch.long)).backward()
    linear = 3 * 2 * 64 * model.classifier.in_features * 10  # the classifier: forward, input and weight gradients
    kernels = engine_kernels(torch.float32)
    assert len(kernels) == 3 * 4
    step = sum(
        counted_flops(k.run)
        for k in kernels
        if not (k.name.startswith("engine conv1 (") and k.name.endswith("input grad"))
    )
    assert step == counter.get_total_flops() - linear


def test_an_efficiency_above_one_is_called_a_wrong_peak():
    assert over_one({"engine_mfu": 0.52, "reference_mfu": 1.0}) == []
    assert over_one({"engine_mfu": 1.51}) == ["engine_mfu=1.510"]


def test_an_avx2_machine_has_its_own_goals(monkeypatch):
    for key, value in AVX2_ONLY.items():
        monkeypatch.setenv(key, value)
    assert machine_class().startswith("avx2")
    goals = targets(machine_class())
    assert goals["engine_vs_reference_speedup"] == (">=", 2.0, 1.6)
    assert verdict("engine_vs_reference_speedup", 1.7, goals).endswith("must-reach met")
    assert verdict("engine_vs_reference_speedup", 1.7).endswith("NOT met")  # on AVX512-BF16 it needs 3.0
    assert verdict("time_to_99_s", 20, goals).endswith("must-reach met")
