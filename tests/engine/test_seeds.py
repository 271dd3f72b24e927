"""Repeating an A/B setup over seeds: the verdict is the paired mean difference with its standard error, it names a
winner only beyond twice that error, and over recorded runs it matches a direct computation."""

import math
import statistics
from dataclasses import replace

import pytest
from small_runs import small_setup

from cnn_lab.core.config import ConfigError
from cnn_lab.engine.seeds import check_seeds, seed_verdict
from cnn_lab.runs.history import RunStore
from cnn_lab.session import Session, Workspace


def test_a_clear_difference_names_the_winner_and_a_noisy_one_does_not():
    clear = seed_verdict([(0.991, 0.987), (0.990, 0.985), (0.992, 0.988), (0.989, 0.986), (0.990, 0.986)])
    differences = [0.4, 0.5, 0.4, 0.3, 0.4]
    error = statistics.stdev(differences) / math.sqrt(5)
    assert clear.difference_pp == pytest.approx(0.4) and clear.standard_error_pp == pytest.approx(error)
    assert clear.text == f"A beats B by 0.40 ± {error:.2f} pp over 5 seeds"
    assert clear.mean_pp("B") == pytest.approx(98.64) and clear.seeds == 5
    noisy = seed_verdict([(0.98, 0.99), (0.99, 0.97), (0.97, 0.98)])
    assert noisy.text == "no measurable difference over 3 seeds: A - B = +0.00 ± 1.00 pp"
    assert seed_verdict([(0.90, 0.95), (0.91, 0.95), (0.90, 0.96)]).text.startswith("B beats A by 5.00 ±")


def test_seeds_outside_two_to_twenty_are_refused():
    assert check_seeds(5) == 5
    for bad in (1, 21, 2.5, True, "3"):
        with pytest.raises(ConfigError, match="seeds must be a whole number from 2 to 20") as err:
            check_seeds(bad)
        assert err.value.field == "seeds"


def test_the_verdict_of_a_repeat_matches_its_runs_in_the_history(mnist, tmp_path):
    store = RunStore(tmp_path / "runs.sqlite")
    workspace = Workspace(processes=False, runs=store)
    workspace.dataset = lambda name: mnist
    session = Session(workspace)
    warning, updates = session.training.repeat_with_seeds(small_setup(epochs=1, images=600), 3)
    assert warning.startswith("3 A/B runs, one per seed (3 to 5), will take about")
    lines = list(updates)
    assert lines[0].startswith("Seed 3 (1 of 3)") and lines[-1] == f"Done: {session.training.verdict.text}."
    runs = store.runs()[::-1]
    assert [r.setup.run.seed for r in runs] == [3, 4, 5]
    direct = seed_verdict([(r.models["A"].test_accuracy, r.models["B"].test_accuracy) for r in runs])
    assert session.training.verdict == direct


def test_a_setup_with_early_stopping_is_timed_and_repeated(mnist):
    """Timing a repeat trains without a validation split: a model that stops early on one is timed all the same."""
    workspace = Workspace(processes=False)
    workspace.dataset = lambda name: mnist
    setup = small_setup(epochs=1, images=600)
    setup = replace(setup, a=replace(setup.a, train=replace(setup.a.train, early_stopping="val_loss", patience=1)))
    setup = replace(setup, run=replace(setup.run, validation_size=100))
    warning, updates = Session(workspace).training.repeat_with_seeds(setup, 2)
    assert warning.startswith("2 A/B runs") and list(updates)[-1].startswith("Done: ")
