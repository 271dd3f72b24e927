"""The Runs tab's tables from recorded runs: a row per run that the filter narrows, curves per run and model, and a
setup diff that shows only what differs."""

import dataclasses

from test_runs import record

from cnn_lab.config import ModelSpec
from cnn_lab.ui.runs import run_curves, runs_frame, setup_diff


def test_the_table_has_a_row_per_run_and_the_filter_keeps_matching_rows():
    first = dataclasses.replace(record(), id=1)
    second = dataclasses.replace(record(), id=2, status="stopped", device="CUDA (NVIDIA H100)")
    table = runs_frame([second, first])
    assert table["run"].tolist() == ["#2", "#1"] and table["status"].tolist() == ["stopped", "finished"]
    assert table["A test"].tolist() == ["98.00%", "98.00%"]
    assert table["A"].iloc[0] == "12,002 params, adam 0.001, 2 epochs"
    assert runs_frame([second, first], "h100")["run"].tolist() == ["#2"]
    assert runs_frame([second, first], "nothing like it").empty


def test_curves_are_one_series_per_run_and_model():
    curves = run_curves([dataclasses.replace(record(evaluations=3), id=4), dataclasses.replace(record(), id=5)])
    assert list(curves) == ["#4 A", "#5 A"]
    xs, ys = curves["#4 A"]
    assert xs == [6400, 12800, 19200] and [round(y, 6) for y in ys] == [90.0, 91.0, 92.0]


def test_the_diff_shows_only_what_differs():
    one = dataclasses.replace(record(), id=1)
    faster = ModelSpec(one.setup.a.model, dataclasses.replace(one.setup.a.train, learning_rate=0.01))
    two = dataclasses.replace(one, id=2, setup=dataclasses.replace(one.setup, a=faster))
    diff = setup_diff(one, two)
    assert diff.columns.tolist() == ["setting", "#1", "#2"]
    assert diff.values.tolist() == [["a.train.learning_rate", "0.001", "0.01"]]
    assert setup_diff(one, one).empty
