"""The Runs tab's tables from recorded runs: a row per run that the filter narrows (without the server's folders),
curves per run and model, a setup diff in the page's words that shows only what differs, and deleting that asks first
and deletes only the runs chosen to delete."""

import dataclasses

import gradio as gr
import pytest
from small_runs import record

from cnn_lab.core.config import ModelSpec, RunConfig, TrainConfig
from cnn_lab.runs.history import RunStore
from cnn_lab.runs.tables import RUN_LABELS, run_curves, runs_frame, setup_diff
from cnn_lab.session import Session, Workspace
from cnn_lab.ui.runs import ask_to_delete, delete_runs, keep_runs, show_runs
from cnn_lab.views.labels import LABELS

FOLDER = "/srv/cnn_lab/datasets, shared"


def test_the_table_has_a_row_per_run_and_the_filter_keeps_matching_rows():
    first = dataclasses.replace(record(), id=1)
    second = dataclasses.replace(record(), id=2, status="stopped", device="CUDA (NVIDIA H100)", duration_s=312.0)
    table = runs_frame([second, first])
    assert table["run"].tolist() == ["#2", "#1"] and table["status"].tolist() == ["stopped", "finished"]
    assert table["A test"].tolist() == ["98.00%", "98.00%"] and table["time"].tolist() == ["5.2 min", "10 s"]
    assert table["model A"].iloc[0] == "12,002 params, adam 0.001, 2 epochs"
    assert table["images/s A · B"].iloc[0] == "3,200 · 3,200"
    assert runs_frame([second, first], "h100")["run"].tolist() == ["#2"]
    assert runs_frame([second, first], "nothing like it").empty


def test_the_table_names_the_dataset_and_shows_no_server_folder():
    read = dataclasses.replace(record(), id=1, data_source=f"MNIST, 60,000 train / 10,000 test, from {FOLDER}")
    table = runs_frame([read, dataclasses.replace(record(), id=2)])
    assert table["dataset"].tolist() == ["MNIST, 60,000 train / 10,000 test", "MNIST sample"]
    assert not table.map(lambda cell: "/srv" in str(cell)).any().any()
    assert runs_frame([read], "srv").empty  # nor does the filter find it
    assert "/srv" not in " ".join(table.columns)


def test_the_diff_shows_only_what_differs_in_the_pages_words():
    one = dataclasses.replace(record(), id=1, data_source=f"MNIST, 60,000 train / 10,000 test, from {FOLDER}")
    faster = ModelSpec(one.setup.a.model, TrainConfig(optimizer="sgd", learning_rate=0.01, augment=("rotate",)))
    two = dataclasses.replace(
        one, id=2, setup=dataclasses.replace(one.setup, a=faster, run=RunConfig(train_subset=10_000))
    )
    diff = setup_diff(one, two)
    assert diff.columns.tolist() == ["setting", "#1", "#2"]
    rows = {setting: (before, after) for setting, before, after in diff.values.tolist()}
    assert rows == {
        "Training images": ("all", "10,000"),
        "Model A · Optimizer": ("Adam", "SGD"),
        "Model A · Learning rate": ("0.001", "0.01"),
        "Model A · Augmentation": ("none", "rotate ±12°"),
        "Model A · Momentum": ("0", "0.9"),  # SGD's usual, filled in by the setup
    }
    assert setup_diff(one, one).empty
    elsewhere = dataclasses.replace(one, id=3, data_source="MNIST, 60,000 train / 10,000 test, from /data/mnist")
    assert setup_diff(one, elsewhere).values.tolist() == [["Read from", FOLDER, "/data/mnist"]]  # where it matters
    sample = dataclasses.replace(one, id=4, data_source="MNIST sample, 10,000 train / 2,000 test, offline")
    assert setup_diff(one, sample).values.tolist() == [
        ["Data", "MNIST, 60,000 train / 10,000 test", "MNIST sample, 10,000 train / 2,000 test, offline"],
        ["Read from", FOLDER, ""],
    ]


def test_every_setting_has_a_name_in_words():
    assert set(RUN_LABELS) == {f.name for f in dataclasses.fields(RunConfig)}
    assert {f.name for f in dataclasses.fields(TrainConfig)} <= set(LABELS)
    words = " ".join(setup_diff(dataclasses.replace(record(), id=1), dataclasses.replace(record(), id=2))["setting"])
    assert "." not in words and "_" not in words


def test_curves_are_one_series_per_run_and_model():
    curves = run_curves([dataclasses.replace(record(evaluations=3), id=4), dataclasses.replace(record(), id=5)])
    assert list(curves) == ["#4 A", "#5 A"]
    xs, ys = curves["#4 A"]
    assert xs == [6400, 12800, 19200] and [round(y, 6) for y in ys] == [90.0, 91.0, 92.0]


@pytest.fixture
def history(tmp_path):
    """A session on a history of four runs, #1 to #4."""
    store = RunStore(tmp_path / "runs.sqlite")
    for _ in range(4):
        store.record(record())
    return Session(Workspace(processes=False, runs=store))


def listed(session: Session) -> list[str]:
    return show_runs("", [], [], session)["table"]["run"].tolist()


def test_deleting_asks_first_and_deletes_only_the_runs_it_named(history):
    asked = ask_to_delete(["#3", "#1"], history)
    assert asked["question"] == "**Delete runs #1 and #3?** This cannot be undone."
    assert asked["ask"].visible is True and asked["armed"] == [1, 3]
    assert listed(history) == ["#4", "#3", "#2", "#1"]  # asking deletes nothing
    shown = delete_runs("", ["#4", "#3"], asked["armed"], history)  # #4 and #3 are overlaid: not a choice to delete
    assert shown["table"]["run"].tolist() == ["#4", "#2"] == listed(history)
    assert shown["pick"].value == ["#4"] and shown["doomed"].value == [] and shown["armed"] == []
    assert shown["ask"].visible is False


def test_no_confirmation_deletes_nothing(history):
    with pytest.raises(gr.Error, match="press Delete, then Confirm"):
        delete_runs("", ["#2"], [], history)  # e.g. a program calling Confirm directly
    with pytest.raises(gr.Error, match="choose one or more of the listed runs"):
        ask_to_delete([], history)
    assert keep_runs()["armed"] == [] and keep_runs()["ask"].visible is False  # Cancel, or another choice of runs
    assert show_runs("", [], ["#2", "#9"], history)["armed"] == []  # so does a refresh
    assert show_runs("", [], ["#2", "#9"], history)["doomed"].value == ["#2"]
    assert listed(history) == ["#4", "#3", "#2", "#1"]
