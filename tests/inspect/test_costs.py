"""What each layer costs: counted figures agree with the summary, measured times are real and ordered, and measuring
leaves the model exactly as it was."""

import math

import pytest
import torch

from cnn_lab.core.config import Activation, BatchNorm, Conv, Flatten, ModelConfig, ModelSpec, Pool, TrainConfig
from cnn_lab.engine.contenders import Contender
from cnn_lab.engine.models import summarize
from cnn_lab.inspect.costs import PROFILE_BATCH, ModelCost, measure_costs

MODEL = ModelConfig((Conv(16), BatchNorm(), Activation("relu"), Pool(), Conv(32), Activation("relu"), Flatten()))


def test_every_layer_is_counted_as_the_summary_and_timed_by_the_profiler():
    contender = Contender.create("A", ModelSpec(MODEL, TrainConfig()))
    contender.test_accuracy = 0.9
    found = measure_costs(contender, (1, 28, 28))
    summary = summarize(MODEL, contender.module)
    assert [layer.name for layer in found.layers] == [row.name for row in summary.layers]
    assert [layer.params for layer in found.layers] == [row.params for row in summary.layers]
    assert [layer.flops for layer in found.layers] == [row.flops for row in summary.layers]
    for layer in found.layers:
        assert math.isfinite(layer.forward_ms) and math.isfinite(layer.backward_ms)
        if layer.kind == "Conv2d":
            assert layer.forward_ms > 0 and layer.backward_ms > 0
    convs = [layer for layer in found.layers if layer.kind == "Conv2d"]
    assert convs[1].flops > convs[0].flops  # 16 -> 32 channels at 14x14 against 1 -> 16 at 28x28
    assert found.latency_ms[PROFILE_BATCH] > found.latency_ms[1] > 0
    assert found.accuracy_per_mflop == pytest.approx(90 / (found.flops / 1e6))
    assert found.accuracy_per_kparam == pytest.approx(90 / (found.params / 1e3))
    assert found.device.startswith(("CPU", "CUDA", "MPS"))
    assert ModelCost(found.layers, found.latency_ms, None, "CPU").accuracy_per_mflop is None


def test_measuring_leaves_weights_statistics_gradients_and_mode_alone():
    contender = Contender.create("B", ModelSpec(MODEL, TrainConfig()))
    module = contender.module
    module.eval()
    before = {k: v.clone() for k, v in module.state_dict().items()}  # batch norm's running statistics included
    measure_costs(contender, (1, 28, 28))
    assert not module.training
    assert all(torch.equal(before[k], v) for k, v in module.state_dict().items())
    assert all(p.grad is None for p in module.parameters())
