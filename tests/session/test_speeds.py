"""A model's speed is timed on a worker, in turn with the runs, once per server: the server's thread never trains."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

import cnn_lab.engine.jobs
from cnn_lab.core.config import ModelConfig, ModelSpec, RunConfig
from cnn_lab.session.speeds import Speeds
from cnn_lab.session.workspace import Workspace


def test_a_speed_is_timed_on_a_worker_once_and_then_known(mnist, monkeypatch):
    def on_this_thread(*_):
        raise AssertionError("timed on the server's own thread")

    monkeypatch.setattr(cnn_lab.engine.jobs, "seconds_per_image", on_this_thread)  # this process's copy only
    workspace = Workspace(processes=True)
    try:
        speeds = Speeds(workspace)
        spec = ModelSpec(ModelConfig.from_conv_channels((4, 8, 8, 8)))
        timed = speeds.seconds_per_image(spec, RunConfig(train_subset=2000), mnist)
        assert 0 < timed < 0.05  # a small model: well under 50 ms an image
        started = time.perf_counter()
        assert speeds.seconds_per_image(spec, RunConfig(train_subset=4000, seed=3), mnist) == timed  # kept
        longer = replace(spec, train=replace(spec.train, epochs=12, learning_rate=0.01))
        assert speeds.seconds_per_image(longer, RunConfig(), mnist) == timed  # epochs and rate: the same speed
        assert time.perf_counter() - started < 0.05
        with pytest.raises(AssertionError, match="server's own thread"):  # a thread workspace times on a thread
            Speeds(Workspace(processes=False)).seconds_per_image(spec, RunConfig(device="cpu"), mnist)
    finally:
        workspace.workers.close()
