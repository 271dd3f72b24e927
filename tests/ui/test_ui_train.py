"""The Train tab's run stream: what each page update carries."""

from __future__ import annotations

import pandas as pd
import pytest

from cnn_lab.core.config import ExperimentConfig, ModelSpec, RunConfig
from cnn_lab.core.presets import default_experiment
from cnn_lab.session import Session, Workspace
from cnn_lab.ui.train.curves import CHARTS
from cnn_lab.ui.train.run import RUN_OUTPUTS, live_page, stream_run


@pytest.fixture
def session(mnist):
    workspace = Workspace(processes=False)
    workspace.dataset = lambda name: mnist
    return Session(workspace)


def test_every_update_of_a_run_carries_every_output_and_the_charts_as_data(session):
    """The page's JavaScript applies a stream's diffs in place to what a chart holds: an output left out of an update,
    or a chart switching between data and a component, broke the page; a component kept its first data (see
    stream_run)."""
    experiment = ExperimentConfig(ModelSpec(), default_experiment().b, RunConfig(train_subset=2_560, evals_per_epoch=2))
    pages = list(stream_run(session, session.training.train(experiment)))
    assert len(pages) >= 4
    *live, last = pages
    assert set(last) == set(RUN_OUTPUTS)  # an API client's result is the last update: all of it
    assert all(set(page) == set(live_page(session)) for page in live)
    assert all(isinstance(page[name], pd.DataFrame) for page in pages for name in CHARTS)  # data, never a component


def test_a_run_whose_person_left_ends_its_stream_quietly():
    """A client killed mid-run closes its session (its view goes): the stream once read the view it no longer had
    (AttributeError, a traceback for every client killed)."""
    from cnn_lab.core.events import RunStarted
    from cnn_lab.views.run_view import RunView

    session = Session(Workspace(processes=False))
    session.pair.view = RunView(["A", "B"])
    session.pair.view.add(RunStarted("CPU", "fp32", "MNIST", 100, {"A": 10, "B": 10}))

    def updates():
        yield None
        session.close()  # the tab went away between two updates
        yield None
        yield None

    pages = list(stream_run(session, updates()))
    assert len(pages) == 1 and pages[0]["results"].startswith("<p>Training")
