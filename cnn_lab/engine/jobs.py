"""The session's trainings as jobs a worker process can run (see worker.py): picklable, events out, result back."""

from __future__ import annotations

import io
import threading
from collections.abc import Generator, Sequence
from dataclasses import dataclass

import torch

from cnn_lab.core.config import ModelSpec, RunConfig
from cnn_lab.core.events import Event, RunFinished
from cnn_lab.data.datasets import Dataset
from cnn_lab.engine.background import in_background
from cnn_lab.engine.contenders import Contender
from cnn_lab.engine.crossval import cross_validate, seconds_per_image
from cnn_lab.engine.local_group import local_group
from cnn_lab.engine.training import train_models
from cnn_lab.engine.worker import Stop


class Shipped:
    """Contenders crossing to another process as one torch.save buffer, landing on its CPU.

    Pickled the default way, every tensor would go through a shared-memory
    file of its own (hundreds, with checkpoints) and the sender's own models
    would be moved into shared memory, where the other process changes them."""

    def __init__(self, contenders: Sequence[Contender]):
        self.contenders = list(contenders)

    def __reduce__(self):
        buffer = io.BytesIO()
        torch.save(self.contenders, buffer)
        return _unship, (buffer.getvalue(),)


def _unship(payload: bytes) -> Shipped:
    return Shipped(torch.load(io.BytesIO(payload), map_location="cpu", weights_only=False))


@dataclass
class TrainJob:
    """Train the pair (fresh, or ``epochs`` more); its result is the run's end and the trained contenders.

    The data's tensors travel through shared memory (loaded once, read only);
    the contenders are shipped, so the session's own stay as they were until
    the run ends well."""

    contenders: Shipped
    run: RunConfig
    data: Dataset
    epochs: int | None = None
    processes: int = 1  # more: DDP on this many processes of this machine, this one the first (see local_group.py)

    def events(self, stop: Stop) -> Generator[Event, None, tuple[RunFinished, Shipped]]:
        if self.processes > 1:
            with local_group(self, self.processes):
                return (yield from self.group_events(stop))
        return (yield from self.group_events(stop))

    def group_events(self, stop: Stop) -> Generator[Event, None, tuple[RunFinished, Shipped]]:
        """The run as one process of it trains it (the only one, or one of a group)."""
        finished = None
        for event in train_models(self.contenders.contenders, self.run, self.data, stop, self.epochs):
            if isinstance(event, RunFinished):
                finished = event  # sent with the models, so nobody sees a finished run with untrained models
            else:
                yield event
        return finished, self.contenders


@dataclass
class CrossValidationJob:
    """k-fold cross-validation of one model's setup; everything it finds is in its events."""

    spec: ModelSpec
    run: RunConfig
    data: Dataset
    folds: int

    def events(self, stop: Stop) -> Generator[Event, None, None]:
        yield from cross_validate(self.spec, self.run, self.data, self.folds, stop)


@dataclass
class TimingJob:
    """A few training batches of one model, timed: its seconds per image here. A job like a run's, so that it runs
    on a worker, in turn with the runs on the cores, and never on the server's own thread."""

    spec: ModelSpec
    run: RunConfig
    data: Dataset

    def events(self, stop: Stop) -> Generator[Event, None, float]:
        yield from ()
        return seconds_per_image(self.spec, self.run, self.data)


class InlineRun:
    """A job on the calling thread itself (``Workspace(inline=True)``): a terminal's run, with no page to keep
    answering, trains on its main thread, as fast as the engine goes (and under torchrun, in its own process)."""

    def __init__(self, job: TrainJob | CrossValidationJob | TimingJob):
        self.stop_event: Stop = threading.Event()
        self._job = job

    def events(self) -> Generator[Event | None, None, object]:
        return (yield from self._job.events(self.stop_event))


class ThreadRun:
    """A job on a thread of the server instead of a worker process (``Workspace(processes=False)``)."""

    def __init__(self, job: TrainJob | CrossValidationJob | TimingJob, poll_s: float):
        self.stop_event: Stop = threading.Event()
        self._job, self._poll_s = job, poll_s

    def events(self) -> Generator[Event | None, None, object]:
        try:
            return (yield from in_background(self._job.events(self.stop_event), self._poll_s))
        finally:  # the reader left, or the job ended (then this changes nothing)
            self.stop_event.set()
