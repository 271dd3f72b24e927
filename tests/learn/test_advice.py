"""Warnings from settings: each fires on its setting, with a fix, and none on the page's defaults or the presets."""

from dataclasses import replace

import pytest

from cnn_lab.core.config import Activation, Conv, ModelConfig, ModelSpec, Pool, TrainConfig
from cnn_lab.core.presets import PRESETS, default_experiment
from cnn_lab.learn.advice import LONG_RUN_S, advice_for, long_run

DEFAULTS = default_experiment()


def with_train(spec: ModelSpec, **changes) -> ModelSpec:
    return replace(spec, train=replace(spec.train, **changes))


@pytest.mark.parametrize(
    "spec, field, says",
    [
        (
            with_train(DEFAULTS.b, learning_rate=1.0),
            "learning_rate",
            "SGD at a learning rate of 1 will most likely diverge",
        ),
        (with_train(DEFAULTS.a, learning_rate=0.05), "learning_rate", "Adam at a learning rate of 0.05 often diverges"),
        (with_train(PRESETS["fast99"].spec, batch_size=1), "batch_size", "Batch norm with a batch of 1"),
        (
            ModelSpec(ModelConfig((Conv(8), Activation(), Pool(), Pool(), Pool(), Pool())), TrainConfig()),
            "layers",
            "The last feature map is 1x1",
        ),
        (ModelSpec(ModelConfig(()), TrainConfig()), "layers", "This model has no layers"),  # once trained silently
    ],
)
def test_each_warning_fires_on_its_setting_with_a_fix(spec, field, says):
    (found,) = advice_for(spec)
    assert found.field == field and says in found.problem and found.fix and found.troubleshooting


def test_no_warning_on_the_defaults_or_any_preset_as_it_comes():
    for spec in (DEFAULTS.a, DEFAULTS.b, *(p.spec for p in PRESETS.values())):
        assert advice_for(spec) == [] and advice_for(spec, (3, 32, 32)) == []


def test_the_one_by_one_warning_depends_on_the_images():
    three_pools = ModelSpec(ModelConfig((Conv(8), Activation(), Pool(), Pool(), Pool())), TrainConfig())
    assert advice_for(three_pools, (1, 28, 28)) == []  # 28 -> 3x3
    assert [a.field for a in advice_for(three_pools, (1, 8, 8))] == ["layers"]  # 8 -> 1x1


def test_a_long_run_is_timed_only_when_it_could_be_long():
    timed = []

    def seconds_per_image() -> float:
        timed.append(1)
        return 0.001

    assert long_run(DEFAULTS.a, DEFAULTS.run, seconds_per_image, 60_000) is None and timed == []  # 1 epoch
    fifty = with_train(DEFAULTS.a, epochs=50)
    found = long_run(fifty, DEFAULTS.run, seconds_per_image, 60_000)
    assert timed == [1] and "50 epochs of 60,000 images will take about 50.0 min" in found.problem
    assert 50 * 60_000 * 0.001 > LONG_RUN_S
    assert long_run(fifty, DEFAULTS.run, lambda: 1e-6, 60_000) is None  # fast enough: nothing to say


def test_a_global_pooling_at_the_end_is_a_choice_not_a_mistake():
    global_pool = ModelSpec(ModelConfig((Conv(8), Activation(), Pool(), Conv(16), Activation(), Pool("max", 7))))
    assert advice_for(global_pool, (1, 28, 28)) == []  # 28 -> 14 -> 7, then 7x7 pooled at once, as airbench ends
    pooled_away = ModelSpec(ModelConfig((Conv(8), Activation(), Pool(), Pool(), Pool(), Pool())))
    assert [a.field for a in advice_for(pooled_away, (1, 28, 28))] == ["layers"]  # 28 -> 14 -> 7 -> 3 -> 1: by halves
