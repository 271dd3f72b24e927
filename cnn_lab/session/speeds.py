"""How fast a model trains on this server: timed once per model, data and device, on a worker in turn with the runs
(never on the server's own thread, which answers every page), and kept for every later estimate: the first screen's
"about N s", the ask-first check before a long run, a long run's warning while the settings change, and the time a
repeat over seeds or a cross-validation will take."""

from __future__ import annotations

import json
import threading

from cnn_lab.core.config import ModelSpec, RunConfig
from cnn_lab.data.datasets import Dataset
from cnn_lab.engine.jobs import TimingJob
from cnn_lab.session.workspace import Workspace

MAX_TIMINGS = 64  # a bound: a public server's visitors try many models
_TIMINGS: dict[tuple[str, str, str, str], float] = {}  # shared by the server's sessions: speed is the machine's
_LOCK = threading.Lock()


SPEED_SETTINGS = ("optimizer", "batch_size", "augment", "loss")  # what a step's time depends on, of the training's


def speed_settings(spec: ModelSpec) -> dict:
    """What a model's speed depends on: its layers and how a step is taken, not its epochs, rate or schedule (a
    change of those must not time it again)."""
    described = spec.to_dict()
    return {"model": described["model"], **{name: described["train"][name] for name in SPEED_SETTINGS}}


class Speeds:
    """Seconds per training image of a model here, through ``workspace``'s workers."""

    def __init__(self, workspace: Workspace):
        self.workspace = workspace

    def seconds_per_image(self, spec: ModelSpec, run: RunConfig, data: Dataset) -> float:
        """``spec``'s training speed on ``data`` at ``run``'s device and precision (the timing_batches of
        engine.crossval.seconds_per_image), timed the first time it is asked for."""
        key = (json.dumps(speed_settings(spec), sort_keys=True), data.source, run.device, run.precision)
        with _LOCK:
            known = _TIMINGS.get(key)
        if known is not None:
            return known
        seconds = self._timed(spec, run, data)
        with _LOCK:
            while len(_TIMINGS) >= MAX_TIMINGS:
                del _TIMINGS[next(iter(_TIMINGS))]  # the oldest
            _TIMINGS[key] = seconds
        return seconds

    def _timed(self, spec: ModelSpec, run: RunConfig, data: Dataset) -> float:
        updates = self.workspace.start(TimingJob(spec, run, data)).events()
        while True:
            try:
                next(updates)
            except StopIteration as end:
                return end.value
