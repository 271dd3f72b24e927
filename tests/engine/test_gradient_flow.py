"""Gradient flow: norms are recorded on the sampled steps only and are finite; a deep sigmoid stack is flagged as
vanishing, a healthy conv net is not; exploding norms and dead ReLUs are named."""

import math
import re

import pytest

from cnn_lab.core.config import Activation, Flatten, Linear, ModelConfig, ModelSpec, RunConfig, TrainConfig
from cnn_lab.core.events import GradientEvent
from cnn_lab.engine.contenders import create_contenders
from cnn_lab.engine.gradient_flow import gradient_health, sampled
from cnn_lab.engine.training import train_models

HEALTHY = ModelConfig.from_conv_channels([8, 8, 16, 16])
SIGMOID_STACK = ModelConfig((Flatten(), *[layer for _ in range(10) for layer in (Linear(32), Activation("sigmoid"))]))


def recorded(model: ModelConfig, steps: int, every: int, mnist) -> list[GradientEvent]:
    spec = ModelSpec(model, TrainConfig("adam", 0.002, 50, 1))
    run = RunConfig(train_subset=50 * steps, seed=1, precision="fp32")
    events = train_models(create_contenders({"A": spec}, run), run, mnist, gradient_every=every)
    return [e for e in events if isinstance(e, GradientEvent)]


def test_norms_and_dead_units_are_recorded_on_the_sampled_steps(mnist):
    found = recorded(HEALTHY, 60, 25, mnist)
    assert [e.step for e in found] == [1, 26, 51] and [e.images_seen for e in found] == [50, 1300, 2550]
    for event in found:
        assert list(event.norms) == ["conv1", "conv2", "conv3", "conv4", "classifier"]  # the layers with weights
        assert all(math.isfinite(v) and v > 0 for v in event.norms.values())
        assert list(event.dead) == ["relu1", "relu2", "relu3", "relu4"]
        assert all(0 <= v <= 1 for v in event.dead.values())
    assert gradient_health(found) == []
    assert recorded(HEALTHY, 10, 0, mnist) == []  # 0: never
    assert [s for s in range(1, 60) if sampled(s)] == [1, 26, 51]


def test_a_deep_sigmoid_stack_is_flagged_as_vanishing(mnist):
    found = recorded(SIGMOID_STACK, 60, 25, mnist)
    said = gradient_health(found)
    assert len(said) == 1 and re.match(r"Model A: gradients vanish\. fc[1-3] gets about 1/[\d,]+ of the", said[0])
    assert max(found[-1].norms[f"fc{k}"] for k in (1, 2, 3)) < 1e-3 * found[-1].norms["classifier"]


@pytest.mark.parametrize(
    ("norms", "dead", "words"),
    [
        ({"conv1": 2e4, "classifier": 3e4}, {}, "Model B: gradients explode. classifier's gradient norm is 30,000"),
        ({"conv1": math.nan, "classifier": 1.0}, {}, "Model B: gradients explode. conv1's gradient norm is nan"),
        ({"conv1": 1.0, "classifier": 1.0}, {"relu1": 0.75}, "Model B: 75% of relu1's units were zero for every"),
    ],
)
def test_exploding_gradients_and_dead_relus_are_named(norms, dead, words):
    said = gradient_health([GradientEvent("B", 26, 1300, norms, dead)])
    assert len(said) == 1 and said[0].startswith(words), said
