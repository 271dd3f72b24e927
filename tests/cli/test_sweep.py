"""Grid files: what they may vary, how a grid and a random draw unfold, and what is refused before any run."""

from __future__ import annotations

import json

import pytest

from cnn_lab.cli.grid import GridError, read_grid, vary
from cnn_lab.core.presets import default_experiment


def grid_file(tmp_path, grid: dict, setup=None):
    path = tmp_path / "grid.json"
    path.write_text(json.dumps({"setup": json.loads((setup or default_experiment()).to_json()), **grid}))
    return path


def test_a_grid_unfolds_every_combination_in_order(tmp_path):
    grid = read_grid(grid_file(tmp_path, {"vary": {"both.train.batch_size": [32, 64], "run.seed": [0, 1, 2]}}))
    assert grid.fields == ("both.train.batch_size", "run.seed") and len(grid.runs) == 6
    values, setup = grid.setups()[3]
    assert values == {"both.train.batch_size": 64, "run.seed": 0}
    assert setup.a.train.batch_size == setup.b.train.batch_size == 64 and setup.run.seed == 0
    assert setup.a.model == default_experiment().a.model  # what is not varied stays as the base has it


def test_a_random_search_draws_the_asked_number_of_distinct_runs_reproducibly(tmp_path):
    spec = {"vary": {"a.train.learning_rate": [0.0003, 0.001, 0.003, 0.01], "run.seed": [0, 1, 2]}}
    first = read_grid(grid_file(tmp_path, {**spec, "search": "random", "samples": 5, "seed": 7}))
    again = read_grid(grid_file(tmp_path, {**spec, "search": "random", "samples": 5, "seed": 7}))
    assert first.runs == again.runs and len(set(first.runs)) == 5
    with pytest.raises(GridError, match=r"samples must be a whole number from 1 to 12 \(the grid's combinations\)"):
        read_grid(grid_file(tmp_path, {**spec, "search": "random", "samples": 13}))


@pytest.mark.parametrize(
    "grid, said",
    [
        ({"vary": {"a.train.learnin_rate": [0.1]}}, "'a.train.learnin_rate' is not a field of the setup"),
        ({"vary": {"c.train.epochs": [1]}}, "must start with one of a., b., both., run."),
        ({"vary": {"run.seed": []}}, "vary · run.seed must be a non-empty list"),
        ({"vary": {"b.train.epochs": [1, 500]}}, "the run with b.train.epochs=500: "),
        ({"vary": {"run.seed": [0]}, "search": "bayes"}, "search must be one of grid, random, got 'bayes'"),
        ({"vary": {}}, 'a grid file is a JSON object with "setup" and "vary"'),
    ],
)
def test_a_grid_that_cannot_be_swept_is_refused_whole_with_what_is_wrong(tmp_path, grid, said):
    with pytest.raises(GridError, match=None) as refused:
        read_grid(grid_file(tmp_path, grid))
    assert said in str(refused.value)


def test_a_grid_may_name_its_setup_by_path_next_to_it(tmp_path):
    (tmp_path / "mine.json").write_text(default_experiment().to_json())
    path = tmp_path / "grid.json"
    path.write_text(json.dumps({"setup": "mine.json", "vary": {"run.train_subset": [1000, 2000]}}))
    assert [s.run.train_subset for _, s in read_grid(path).setups()] == [1000, 2000]
    path.write_text(json.dumps({"setup": "nowhere.json", "vary": {"run.seed": [0]}}))
    with pytest.raises(GridError, match="setup 'nowhere.json': No such file or directory"):
        read_grid(path)


def test_vary_checks_the_result_as_any_setup():
    with pytest.raises(ValueError, match="learning_rate"):
        vary(default_experiment(), {"a.train.learning_rate": "fast"})
