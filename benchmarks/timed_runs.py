"""The engine run as the benchmarks time it: when each step of the first model ended, and its evaluations. Shared by
run.py's phases and cifar10.py (which run.py runs as a phase, so neither may import the other for it)."""

from __future__ import annotations

import threading
import time

from cnn_lab.core.config import RunConfig
from cnn_lab.core.events import EvalEvent, RunFinished, StepEvent
from cnn_lab.engine.training import train_models


def train_ours(contenders, run: RunConfig, data, stop_when=None) -> tuple[list[float], list, RunFinished]:
    """Run the engine; step end times of the first model, its evaluations, and the final event."""
    step_times, evals, stop = [], [], threading.Event()
    for event in train_models(contenders, run, data, stop):
        if isinstance(event, StepEvent) and event.model == contenders[0].name:
            step_times.append(time.perf_counter())
        elif isinstance(event, EvalEvent):
            evals.append(event)
            if stop_when and stop_when(event):
                stop.set()
        elif isinstance(event, RunFinished):
            return step_times, evals, event
