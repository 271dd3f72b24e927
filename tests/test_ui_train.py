"""The Train tab's run stream: what each page update carries."""

from __future__ import annotations

import gradio as gr
import pandas as pd
import pytest

from cnn_lab.config import ExperimentConfig, ModelSpec, RunConfig
from cnn_lab.presets import default_experiment
from cnn_lab.session import Session, Workspace
from cnn_lab.ui.train import RUN_OUTPUTS, news, run_page, same, stream_run


def frame(*values: float) -> pd.DataFrame:
    return pd.DataFrame(
        {"x": [float(i) for i in range(len(values))], "loss": list(values), "model": ["A"] * len(values)}
    )


def test_same_compares_tables_by_content_and_text_by_value():
    assert same(frame(1.0, 2.0), frame(1.0, 2.0))
    assert not same(frame(1.0, 2.0), frame(1.0, 2.5))
    assert not same(frame(1.0), "1.0") and not same("1.0", frame(1.0))
    assert same("epoch 1", "epoch 1") and not same("epoch 1", "epoch 2")


def test_news_sends_what_changed_and_the_accuracy_range_only_when_it_moves():
    sent: dict = {}
    first = news({"status": "a", "loss": frame(1.0), "accuracy": frame(10.0)}, [0.0, 100.0], sent)
    assert set(first) == {"status", "loss", "accuracy"}
    assert isinstance(first["accuracy"], gr.LinePlot)  # the first update sets the chart's range

    second = news({"status": "b", "loss": frame(1.0), "accuracy": frame(10.0, 50.0)}, [0.0, 100.0], sent)
    assert set(second) == {"status", "accuracy"}  # the loss did not change
    assert isinstance(second["accuracy"], pd.DataFrame)  # data only: the range did not move

    third = news({"status": "b", "loss": frame(1.0), "accuracy": frame(10.0, 50.0)}, [50.0, 100.0], sent)
    assert set(third) == {"accuracy"} and third["accuracy"].constructor_args["y_lim"] == [50.0, 100.0]
    assert news({"status": "b", "loss": frame(1.0), "accuracy": frame(10.0, 50.0)}, [50.0, 100.0], sent) == {}


@pytest.fixture
def session(mnist):
    workspace = Workspace(processes=False)
    workspace.dataset = lambda name: mnist
    return Session(workspace)


def test_a_run_streams_changes_and_ends_with_the_whole_page(session):
    experiment = ExperimentConfig(ModelSpec(), default_experiment().b, RunConfig(train_subset=2_560, evals_per_epoch=2))
    pages = list(stream_run(session, session.train(experiment), full_range=False))
    assert len(pages) >= 4
    *live, last = pages
    assert set(last) == set(RUN_OUTPUTS)  # an API client's result is the last update: all of it
    assert set(last) == set(run_page(session, False, finished=True))
    assert any(set(page) < set(live[0]) for page in live[1:])  # some update left out what had not changed
    assert all("status" in page for page in live[1:])  # the elapsed time moves on every update
    ranges = [page["accuracy"] for page in live if isinstance(page.get("accuracy"), gr.LinePlot)]
    assert 1 <= len(ranges) < len(live)  # the accuracy chart's range went with the first update and when it moved
