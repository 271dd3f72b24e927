"""What all sessions of one app share: the data folder, the default device, the workers runs train in, the history."""

from __future__ import annotations

import threading
from dataclasses import replace

from cnn_lab.data.datasets import Dataset, load_dataset
from cnn_lab.engine.jobs import CrossValidationJob, InlineRun, ThreadRun, TimingJob, TrainJob
from cnn_lab.engine.limits import LOCAL, PUBLIC
from cnn_lab.engine.runtime import resolve_device
from cnn_lab.engine.worker import JobRun, WorkerPool
from cnn_lab.runs.history import RunStore

DATASETS_KEPT = 2  # datasets a Workspace keeps loaded (MNIST and another, say): loading one takes seconds
UPDATE_EVERY_S = 0.5  # the page is refreshed at most this often while training


class Workspace:
    """What all sessions of one app share: the data folder (each dataset loaded once), the default device, the
    worker processes runs train in (``processes=False``: threads of this process instead; ``inline``: the calling
    thread itself, for a terminal) and the run history."""

    def __init__(
        self,
        data_dir: str | None = None,
        device: str = "auto",
        processes: bool = True,
        runs: RunStore | None = None,
        public: bool = False,
        inline: bool = False,
        train_processes: int = 1,
    ):
        self.data_dir, self.device = data_dir, device
        self.inline = inline
        self.train_processes = train_processes  # more: each run trains with DDP on this many local processes
        self.workers = WorkerPool() if processes and not inline else None
        self.runs = runs  # the run history (None: runs are not kept)
        self.public = public  # a public server: each session sees only its own runs
        self.limits = PUBLIC if public else LOCAL  # what one run may ask of this server
        self._lock = threading.Lock()
        self._datasets: dict[str, Dataset] = {}  # the latest DATASETS_KEPT loaded, each loaded once

    def warm(self) -> None:
        """Start a worker process now, so the first run need not wait a second or two for one."""
        if self.workers is not None:
            self.workers.warm()

    def start(self, job: TrainJob | CrossValidationJob | TimingJob) -> JobRun | ThreadRun | InlineRun:
        """Run ``job`` on a worker process (or a thread, or the caller's): its events, and its stop."""
        if self.inline:
            return InlineRun(job)
        if self.workers is None:
            return ThreadRun(job, UPDATE_EVERY_S)
        return self.workers.start(job, on_cpu=resolve_device(job.run.device).type == "cpu")

    def _load(self, name: str) -> Dataset:
        data = load_dataset(name, self.data_dir)
        if self.public and data.origin not in ("download cache", "offline sample"):
            data = replace(data, origin="the data folder")  # a public page does not show the server's paths
        return data

    def dataset(self, name: str) -> Dataset:
        """The dataset ``name`` (raises DataError, naming where it looked, when it is not there)."""
        with self._lock:  # two sessions asking at once load it once
            data = self._datasets.pop(name, None) or self._load(name)
            self._datasets[name] = data  # the newest last
            while len(self._datasets) > DATASETS_KEPT:
                self._datasets.pop(next(iter(self._datasets)))
            return data
