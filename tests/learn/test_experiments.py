"""Guided experiments: B differs from A in exactly its knob, and the words about a run follow its numbers."""

import pytest

from cnn_lab.core.events import ModelResult
from cnn_lab.learn.experiments import GUIDED, differing_fields, guided_setup, seed_spread_pp, what_it_shows


@pytest.mark.parametrize("knob", list(GUIDED))
def test_each_guided_experiment_changes_exactly_one_setting(knob):
    setup = guided_setup(knob, seed=4)
    assert differing_fields(setup.a, setup.b) == [GUIDED[knob].field]
    assert setup.run.seed == 4 and setup.run.identical_init and setup.a.model.param_count > 0
    assert setup.b.model.param_count > 0  # B is a valid model


def result(accuracy: float, images_per_s: float = 1000.0) -> ModelResult:
    return ModelResult("finished", 300, 20_000, 20.0, images_per_s, accuracy, epochs_done=2)


def test_the_paragraph_follows_the_measured_numbers_and_the_seed_noise():
    within = what_it_shows("learning rate", {"A": result(0.9700), "B": result(0.9710)}, spread_pp=0.15)
    assert "B is 0.10 percentage points better" in within and "within seed noise" in within
    beyond = what_it_shows("batch size", {"A": result(0.9700), "B": result(0.9500, 2500)}, spread_pp=0.15)
    assert "B is 2.00 percentage points worse" in beyond and "more than seed noise" in beyond
    assert "(2.50x): the change saves time" in beyond
    assert "Repeat with seeds" not in what_it_shows("depth", {"A": result(0.97), "B": result(0.98)}, None)


def test_the_seed_spread_is_the_one_benchmarks_measured():
    spread = seed_spread_pp()
    assert spread is not None and 0.01 < spread < 1.0  # percentage points over seeds of model A on full MNIST
