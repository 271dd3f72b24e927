"""One user's work: the trained pair, its data and run, and every call the page makes. No Gradio here.

The page keeps one Session per browser tab (in a ``gr.State``) and only
calls it; a test or a script can drive the same calls without a server.
Every Session of an app shares one Workspace: where the data comes from
(loaded once, read only), the default device, and the worker processes
that train (see worker.py).
"""

from __future__ import annotations

import copy
import gc
import itertools
import math
import re
import shutil
import sqlite3
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from cnn_lab.core.config import ConfigError, ExperimentConfig, ModelSpec, RunConfig, check_epochs
from cnn_lab.core.errors import quoted
from cnn_lab.core.events import EvalEvent, Event, GradientEvent, ModelResult, RunFinished, StepEvent
from cnn_lab.data.datasets import DATASET_INFO, UPLOADED, DataError, Dataset, load_dataset
from cnn_lab.data.pictures import displayable
from cnn_lab.data.uploads import read_upload
from cnn_lab.engine.contenders import Contender, create_contenders
from cnn_lab.engine.crossval import check_cross_validation, estimate_cross_validation_s
from cnn_lab.engine.gradient_flow import gradient_health
from cnn_lab.engine.jobs import CrossValidationJob, InlineRun, Shipped, ThreadRun, TrainJob
from cnn_lab.engine.limits import LOCAL, PUBLIC, training_flops
from cnn_lab.engine.models import ModelSummary, build_model, summarize
from cnn_lab.engine.runtime import release_memory, resolve_device
from cnn_lab.engine.seeds import SeedVerdict, check_seeds, estimate_repeat_s, seed_verdict
from cnn_lab.engine.training import augmented_examples
from cnn_lab.engine.worker import JobRun, WorkerDied, WorkerPool
from cnn_lab.inspect.confusion import PairScores, score_on_test_set
from cnn_lab.inspect.costs import ModelCost, measure_costs
from cnn_lab.inspect.explain import Explanation, check_method, explain
from cnn_lab.inspect.inference import drawing_as_input, image_as_input, predict_images
from cnn_lab.learn.walkthrough import Facts
from cnn_lab.runs.history import Evaluation, ModelRecord, RunRecord, RunStore
from cnn_lab.runs.leaderboard import Entry, entries_of, record_of
from cnn_lab.runs.model_files import FORMATS, ImportedModel, export_model, read_model_file
from cnn_lab.runs.report import ReportInput, render
from cnn_lab.views.run_view import (
    CURVES,
    SMOOTHING,
    ChartOptions,
    CrossValidationView,
    Point,
    RunView,
    checkpoint_frame,
    duration_text,
    results_html,
    summary_frame,
)

NAMES = ("A", "B")
IMPORTED = "imported"  # a model's status after it was read from a file
ASK_AGAIN_S = 120.0  # a long run asked about starts when asked for again within this
# Bounds on how slowly training can go (a step's fixed cost, FLOPs/s on a slow laptop core): a run whose steps and
# FLOPs cannot add up to the server's ask_over_s at these rates is surely short, and not worth timing first.
SLOWEST_STEP_S = 0.005
SLOWEST_FLOPS_PER_S = 5e9
RESULT_IMAGES = 20
AUGMENT_PREVIEW_IMAGES = 8
UPDATE_EVERY_S = 0.5  # the page is refreshed at most this often while training


class SessionError(Exception):
    """A call the session cannot take now (a run is going, nothing is trained yet); the message says what to do."""

    def __init__(self, message: str, title: str):
        super().__init__(message)
        self.title = title


DATASETS_KEPT = 2  # datasets a Workspace keeps loaded (MNIST and another, say): loading one takes seconds


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

    def start(self, job: TrainJob | CrossValidationJob) -> JobRun | ThreadRun | InlineRun:
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


def augmentation_preview(
    data: Dataset, kinds: tuple[str, ...], seed: int | None = None
) -> list[tuple[np.ndarray, str]]:
    """A few training images (uint8, as the models read them) with their labels, as a model trained with ``kinds``
    sees them, taken from as many classes as there are images; a new draw each time by default."""
    per_class = AUGMENT_PREVIEW_IMAGES // data.info.num_classes + 1
    firsts = [(data.train_labels == k).nonzero().flatten()[:per_class].tolist() for k in range(data.info.num_classes)]
    picks = [i for turn in itertools.zip_longest(*firsts) for i in turn if i is not None][:AUGMENT_PREVIEW_IMAGES]
    images, labels = data.train_images[picks], data.train_labels[picks].tolist()
    shown = augmented_examples(images, kinds, seed=time.time_ns() % 2**31 if seed is None else seed)
    return [(image.numpy(), data.info.class_names[label]) for image, label in zip(shown, labels, strict=True)]


def time_up(stop: threading.Event, view: RunView | CrossValidationView, limit_s: float) -> None:
    """A run reached the server's wall-clock limit: it stops after its current batch, and the page says why."""
    view.limit_note = f"stopped at this server's limit of {limit_s / 60:g} minutes per run; the models are kept"
    stop.set()


def failure_text(err: BaseException, limit: int = 160) -> str:
    """Why a run failed, in words: out of memory said as such (torch's CPU and CUDA allocators, Python's own)."""
    if isinstance(err, WorkerDied):
        return str(err)
    lines = str(err).strip().splitlines()
    detail = lines[0] if lines else ""
    detail = f" ({detail[:limit]}{'...' if len(detail) > limit else ''})" if detail else ""
    if isinstance(err, (MemoryError, torch.OutOfMemoryError)) or "allocate memory" in str(err).lower():
        asked = re.search(r"tried to allocate ([\d.]+) ?(bytes|[KMGT]iB)", str(err), re.IGNORECASE)
        if asked is None:
            return f"it ran out of memory{detail}"
        amount, unit = float(asked[1]), asked[2]
        size = f"{amount / 2**20:,.0f} MB" if unit.lower() == "bytes" else f"{amount:g} {unit}"
        return f"it ran out of memory (it asked for {size} more than the system could give)"
    return f"it raised {type(err).__name__}{detail}"


def fitted(setup: ExperimentConfig, data: Dataset) -> ExperimentConfig:
    """``setup`` with both models reading ``data``'s images and classes: a network laid out for 28x28 grey digits
    adapts to 32x32 colour or 26 letters; one that cannot (pooled below 1x1, too many parameters) says why."""
    specs = []
    for name, spec in zip(NAMES, (setup.a, setup.b)):
        try:
            model = replace(spec.model, input_shape=data.image_shape, num_classes=data.info.num_classes)
        except ConfigError as err:
            c, h, w = data.image_shape
            raise ConfigError(
                f"model {name} cannot read {data.info.title} ({w}x{h}, {c} channel{'s' if c > 1 else ''}, "
                f"{data.info.num_classes} classes): {err}",
                err.field,
                err.layer,
            ) from None
        specs.append(replace(spec, model=model))
    return replace(setup, a=specs[0], b=specs[1])


@dataclass(frozen=True)
class SketchReading:
    """What the page shows for a drawing: each model's confidence per class (None: no answer), the 28x28 input and a note."""

    confidences: dict[str, dict[str, float] | None]
    preview: np.ndarray | None
    note: str


def page_updates(
    events: Generator[Event | None, None, object], view: RunView | CrossValidationView
) -> Generator[Event | None, None, object]:
    """Fold a run's events into ``view`` and yield whenever the page is due an update: at once for a run's start and
    end, failures and alerts, at most every UPDATE_EVERY_S for steps, evaluations and gradient samples (None: a quiet moment; on a GPU
    a small model evaluates many times a second, and each update redraws the page). Returns the run's result; closed
    early, it closes the run (which stops it)."""
    last = 0.0
    try:
        while True:
            try:
                event = next(events)
            except StopIteration as end:
                return end.value
            if event is not None:
                view.add(event)
            if (
                isinstance(event, (StepEvent, EvalEvent, GradientEvent, type(None)))
                and time.perf_counter() - last < UPDATE_EVERY_S
            ):
                continue
            last = time.perf_counter()
            yield event
    finally:
        events.close()


def series(rows: list[Point]) -> dict[str, tuple[list[float], list[float]]]:
    """A chart's points as one (images seen, values) per series, the empty points left out."""
    found: dict[str, tuple[list[float], list[float]]] = {}
    for x, y, name, *_ in rows:
        if not math.isnan(y):
            xs, ys = found.setdefault(name, ([], []))
            xs.append(x)
            ys.append(y)
    return found


class Session:
    """One user's pair of models and everything done with it."""

    def __init__(self, workspace: Workspace):
        self.workspace = workspace
        self.contenders: dict[str, Contender] = {}
        self.summaries: dict[str, ModelSummary] = {}
        self.data: Dataset | None = None
        self.run: RunConfig | None = None  # of the trained pair; continuing training reuses it
        self.stop_event = threading.Event()
        self.running = False
        self.finished: RunFinished | None = None
        self.view: RunView | None = None  # what the page shows of the latest run
        self._run: JobRun | ThreadRun | InlineRun | None = None  # the job now running
        self.owner = uuid.uuid4().hex  # whose runs these are in the history of a public server
        self.recorded: int | None = None  # the history's id of the latest run
        self.verdict: SeedVerdict | None = None  # of the latest repeat over seeds
        self.leaderboard_entries: list[Entry] = []  # the class's models, from imported records
        self._scores: dict[int | None, PairScores] = {}  # the pair on the test set (now: None; or a saved epoch)
        self.pair_version = 0  # goes up whenever the pair's weights change: what the page showed before is stale
        self._pair_how = ""  # how the pair got its weights after its run (a roll-back, an import), for pair_caption
        self.last_sketch: np.ndarray | None = None  # the latest drawing or image read, as the models see it
        self.uploaded: Dataset | None = None  # this session's own dataset (the setup's dataset "custom")
        self.first_set_up = False  # the Learn tab's first comparison was set up (Start here, step 1)
        self.closed = False  # the user left: nothing more is kept
        self._files: Path | None = None  # the folder of the files made for this session to download
        self._asked: tuple[str, float] | None = None  # the long run last asked about, and when (see _ask_first)
        self.chart = ChartOptions()  # how this person has the live curves drawn

    def draw_curves(self, x_axis: str, smoothing: float, log_loss: bool, shown: list[str]) -> ChartOptions:
        """Remember how the live curves are drawn: x axis, loss smoothing and log scale, the curves shown (of
        CURVES). A value no control can send is refused by its field, and the choice before it stays."""
        if not isinstance(shown, list | tuple) or not set(shown) <= set(CURVES):
            raise ConfigError(f"curves shown must be some of {', '.join(CURVES)}, got {quoted(shown)}", "curves shown")
        self.chart = ChartOptions(x_axis, smoothing, bool(log_loss), frozenset(CURVES) - set(shown))
        return self.chart

    def chart_csv(self) -> str:
        """Every point of the live charts, with all their x values and the loss as drawn, as CSV."""
        if self.view is None:
            raise SessionError("Train the models first: the charts have no data yet.", "Charts")
        return self.view.chart_csv(self.chart)

    def close(self) -> None:
        """The user left (the tab closed, or the session expired): stop a run and let go of the models, their
        checkpoints, the upload and the pictures now, rather than when Gradio drops the state an hour later."""
        self.closed = True
        self.stop_event.set()
        if self._files is not None:  # its downloads go with it: their links stop working
            shutil.rmtree(self._files, ignore_errors=True)
            self._files = None
        self.contenders, self.summaries, self._scores, self.leaderboard_entries = {}, {}, {}, []
        self.data = self.uploaded = self.view = self.finished = self.last_sketch = self.verdict = None
        gc.collect()
        release_memory()

    def files_folder(self, under: Path, prefix: str) -> Path:
        """A new empty folder for one download's files, in this session's own folder under ``under``; all of them
        are removed when the session closes (a file served by its link must not outlive its session)."""
        if self.closed:
            raise SessionError("This session has ended; reload the page.", "Session")
        if self._files is None:
            self._files = under / uuid.uuid4().hex
        self._files.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=prefix, dir=self._files))

    @property
    def training_process(self) -> int | None:
        """The process id of the worker training for this session now (None: no run, or one on a thread)."""
        return getattr(self._run, "pid", None)

    def __deepcopy__(self, memo) -> Session:
        """gr.State deep-copies its first value for every new browser session: each gets a fresh Session, same Workspace."""
        return Session(self.workspace)

    @property
    def trained(self) -> bool:
        """True once a run has ended (finished or stopped) with at least one training step, or a trained model was
        imported from a file."""
        return self.finished is not None and any(
            r.steps > 0 or r.status == IMPORTED for r in self.finished.results.values()
        )

    def walkthrough(self) -> Facts:
        """What Start here needs to know of this session to tick its steps."""
        results = self.finished.results if self.finished is not None and self.trained else {}
        accuracies = {name: r.test_accuracy for name, r in results.items()}
        complete = set(accuracies) == set(NAMES) and None not in accuracies.values()
        return Facts(
            self.first_set_up, self.trained, accuracies if complete else None, self.last_sketch is not None,
            bool(self._scores),
        )  # fmt: skip

    # ------------------------------------------------------------ data

    def dataset(self, name: str) -> Dataset:
        """The dataset a setup names: a built-in one, or this session's upload ("custom")."""
        if not isinstance(name, str) or name not in (*DATASET_INFO, UPLOADED):
            raise ConfigError(
                f"dataset must be one of {', '.join((*DATASET_INFO, UPLOADED))}, got {quoted(name)}", "dataset"
            )
        if name != UPLOADED:
            return self.workspace.dataset(name)
        if self.uploaded is None:
            raise ConfigError(
                "dataset: no data of yours yet; upload a .zip or .npz in the Data tab first, or choose a built-in one",
                "dataset",
            )
        return self.uploaded

    def upload_dataset(self, path: str | Path, resize: int | None = None) -> Dataset:
        """Read the uploaded file as this session's own dataset (no other session sees it); a ConfigError names
        what is wrong with it. A trained pair stays as it is."""
        self.uploaded = read_upload(path, resize)
        return self.uploaded

    def images_per_epoch(self, run: RunConfig) -> int:
        """How many images one epoch of ``run`` trains on."""
        return run.training_images(len(self.dataset(run.dataset).train_labels)) - run.validation_size

    def augmentation_preview(self, kinds: tuple[str, ...], dataset: str) -> list[tuple[np.ndarray, str]]:
        return augmentation_preview(self.dataset(dataset), kinds)

    # ------------------------------------------------------------ training

    def check(self, setup: ExperimentConfig) -> tuple[ExperimentConfig, Dataset]:
        """``setup`` fitted to the data it trains on, and that data, once both models are checked against it
        (ConfigError / DataError say what is wrong)."""
        data = self.dataset(setup.run.dataset)
        setup = fitted(setup, data)
        train_size = setup.run.training_images(len(data.train_labels))
        for name, spec in zip(NAMES, (setup.a, setup.b)):
            setup.run.check_fits(spec.train, train_size, name)
        return setup, data

    def train(self, setup: ExperimentConfig) -> Iterator[Event | None]:
        """Fresh models for ``setup``, then its run: each item means the view changed and the page is due an update.

        The session is busy from this call on: iterate the updates at once (closing them, even half-way, frees it)."""
        setup, data = self.check(setup)
        contenders = create_contenders({"A": setup.a, "B": setup.b}, setup.run, self.workspace.limits.checkpoint_bytes)
        summaries = {c.name: summarize(c.spec.model, c.module) for c in contenders}
        images = self.images_per_epoch(setup.run)
        self.workspace.limits.check(setup, summaries, images)
        self._ask_before_a_long_run(setup, data, summaries, images, "this run")
        self._begin()
        before = self._pair_as_it_is()
        self.data, self.run, self.finished = data, setup.run, None
        self.contenders, self.summaries = {c.name: c for c in contenders}, summaries
        early = tuple(c.name for c in contenders if c.spec.train.early_stopping != "off")
        self.view = RunView(list(NAMES), validation=setup.run.validation_size > 0, early_stopping=early)
        job = TrainJob(Shipped(contenders), setup.run, data, processes=self.workspace.train_processes)
        return self._relay(job, before=before)

    def _pair_as_it_is(self) -> Callable[[], None]:
        """What puts the session's pair (models, data, run and its view) back as it is now, should a fresh run fail:
        a failed run must not cost the user the models they had."""
        kept = self.data, self.run, self.finished, self.contenders, self.summaries, self.view

        def put_back() -> None:
            self.data, self.run, self.finished, self.contenders, self.summaries, self.view = kept

        return put_back

    def continue_training(self, epochs: int) -> Iterator[Event | None]:
        """Both models train ``epochs`` more epochs from where they are, each with its settings from the run."""
        self._trained_pair("there is nothing to continue yet.")
        epochs = check_epochs(epochs, "more epochs")
        images = self.images_per_epoch(self.run)
        a, b = (
            replace(self.contenders[name].spec, train=replace(self.contenders[name].spec.train, epochs=epochs))
            for name in NAMES
        )
        more = ExperimentConfig(a, b, self.run)
        self.workspace.limits.check(more, self.summaries, images)  # every cap, as a run's: an imported model's size too
        self._ask_before_a_long_run(more, self.data, self.summaries, images, f"{epochs} more epochs")
        self._begin()
        before = self._pair_as_it_is()  # the session's contenders are not touched by a run: only shipped copies are
        self.finished = None
        job = TrainJob(Shipped(self.contenders.values()), self.run, self.data, epochs, self.workspace.train_processes)
        return self._relay(job, before=before)

    def _ask_before_a_long_run(
        self, setup: ExperimentConfig, data: Dataset, summaries: dict[str, ModelSummary], images: int, what: str
    ) -> None:
        """Where the server asks before long runs (your own: a public one has a wall-clock limit instead), time a run
        that may be long on a few batches of each model and ask first (see _ask_first) if it is estimated longer."""
        if self.workspace.limits.ask_over_s is None:
            return
        steps = sum(math.ceil(images / spec.train.batch_size) * spec.train.epochs for spec in (setup.a, setup.b))
        epochs = {"A": setup.a.train.epochs, "B": setup.b.train.epochs}
        at_most_s = steps * SLOWEST_STEP_S + training_flops(summaries, epochs, images) / SLOWEST_FLOPS_PER_S
        if at_most_s > self.workspace.limits.ask_over_s:  # else surely short: not worth timing
            self._ask_first(estimate_repeat_s(setup, data, 1), f"{what} ({setup.to_json()})", what)

    def _ask_first(self, seconds: float, key: str, what: str) -> None:
        """Refuse, once, work estimated over the server's ``ask_over_s``, with the estimate: the same work asked for
        again within ASK_AGAIN_S starts (a second press of the button is the answer)."""
        limit = self.workspace.limits.ask_over_s
        if limit is None or seconds <= limit:
            return
        asked, self._asked = self._asked, None
        if asked is not None and asked[0] == key and time.monotonic() - asked[1] < ASK_AGAIN_S:
            return
        self._asked = (key, time.monotonic())
        raise SessionError(
            f"{what.capitalize()} would take about {duration_text(seconds)} here (timed on a few batches of each "
            f"model). Press the same button again within {ASK_AGAIN_S / 60:g} minutes to start it anyway, or use "
            "fewer epochs, fewer training images or a smaller model.",
            "A long run: are you sure?",
        )

    def stop(self) -> str:
        """Ask the running training to end after its current batch."""
        if not self.running:
            return "Nothing is training."
        self.stop_event.set()
        return "Stopping after the current batch..."

    def wait_until_idle(self, timeout_s: float) -> bool:
        """Whether the session's run (if any) has ended within ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while self.running and time.monotonic() < deadline:
            time.sleep(0.05)
        return not self.running

    def _begin(self) -> None:
        if self.running:
            raise SessionError("A run is already in progress: press Stop first.", "Busy")
        self.stop_event = threading.Event()
        self.running = True
        self._pair_changed("")

    def _relay(
        self,
        job: TrainJob | CrossValidationJob,
        cross_validation: CrossValidationView | None = None,
        before: Callable[[], None] | None = None,
    ) -> Iterator[Event | None]:
        """Run ``job`` and relay its updates; a training job ends with the trained pair, which becomes the session's.
        If it fails (its process dies, it runs out of memory, it raises), ``before`` puts back the pair it had."""
        view = cross_validation or self.view
        timer = None
        try:
            run = self._run = self.workspace.start(job)
            asked, self.stop_event = self.stop_event, run.stop_event
            if asked.is_set():  # Stop was pressed before the run had started
                run.stop_event.set()
            limit = self.workspace.limits.max_run_s
            if limit is not None:  # a public server's wall-clock limit: the run stops there, as if Stop was pressed
                timer = threading.Timer(limit, time_up, (run.stop_event, view, limit))
                timer.daemon = True
                timer.start()
            started_at = datetime.now(timezone.utc)
            first_evaluation = len(view.evaluations) if isinstance(job, TrainJob) else 0  # of this run
            outcome = yield from page_updates(run.events(), view)
            if isinstance(job, TrainJob) and not self.closed:  # a closed session keeps nothing
                finished, shipped = outcome
                self.contenders = {c.name: c for c in shipped.contenders}
                view.add(finished)
                self.finished, self.running = finished, False
                self._record(finished, started_at, view.evaluations[first_evaluation:])
                yield finished
        except SessionError:
            raise
        except (ConfigError, DataError):  # a setting or the data refused inside the run: said as such, by the field
            if before is not None:
                before()
            raise
        except Exception as err:  # its process died (WorkerDied), or the run raised: out of memory, a bug
            if before is not None:
                before()
            kept = "the models are as they were before this run" if self.trained else "no model was trained"
            raise SessionError(
                f"Training ended abruptly: {failure_text(err)}. The server goes on and {kept}. "
                "Try a smaller batch size or model, or fewer epochs.",
                "Training failed",
            ) from None
        finally:  # also reached when the page goes away mid-run (closing the run stops it)
            self.running, self._run = False, None
            if timer is not None:
                timer.cancel()
            self.stop_event = threading.Event()

    def _record(self, finished: RunFinished, started_at: datetime, evaluations: list[EvalEvent]) -> None:
        """Keep the run in the history. A history that cannot be written costs the run nothing: the log says so."""
        if self.workspace.runs is None or self.view.started_info is None:
            return
        info = self.view.started_info
        setup = ExperimentConfig(self.contenders["A"].spec, self.contenders["B"].spec, self.run)
        models = {
            name: ModelRecord(
                result.status, result.test_accuracy, result.validation_accuracy, result.epochs_done, result.steps,
                result.images_seen, result.train_time_s, result.images_per_s, self.summaries[name].params,
                self.summaries[name].flops,
            )
            for name, result in finished.results.items()
        }  # fmt: skip
        kept = tuple(
            Evaluation(e.model, e.epoch, e.images_seen, e.test_loss, e.test_accuracy, e.validation_loss,
                       e.validation_accuracy)
            for e in evaluations
        )  # fmt: skip
        record = RunRecord(
            self.owner, started_at.isoformat(timespec="seconds"), finished.reason, setup, info.data_source,
            info.device, info.precision, finished.elapsed_s, models, kept,
        )  # fmt: skip
        try:
            self.recorded = self.workspace.runs.record(record)
        except sqlite3.Error as err:
            self.view.tell(f"This run could not be kept in the run history ({err}); the models are unaffected.")

    def history(self) -> list[RunRecord]:
        """The runs this user may see, newest first: all of them on a local server, only this session's on a public
        one."""
        if self.workspace.runs is None:
            return []
        return self.workspace.runs.runs(owner=self.owner if self.workspace.public else None)

    def forget_runs(self, ids: list[int]) -> int:
        """Delete runs from the history (on a public server, only this session's); returns how many went."""
        if self.workspace.runs is None:
            return 0
        return self.workspace.runs.delete(ids, owner=self.owner if self.workspace.public else None)

    def _trained_pair(self, nothing_yet: str) -> None:
        """Refuse while a run goes, and before the first one (``nothing_yet`` says what is missing)."""
        if self.running:
            raise SessionError("Training is in progress: press Stop first, or wait for it to end.", "Busy")
        if not self.contenders or self.finished is None:
            raise SessionError(f"Train the models first: {nothing_yet}", "Train first")

    # ------------------------------------------------------------ after a run

    def roll_back(self, name: str, epoch: int) -> str:
        """Model ``name`` back to the end of a saved epoch; its curves are cut back there. Returns a note for the page."""
        self._trained_pair("there are no saved epochs yet.")
        if name not in self.contenders:
            raise ConfigError(f"model must be one of {', '.join(NAMES)}, got {quoted(name)}", "model")
        contender = self.contenders[name]
        contender.restore(epoch)
        self._pair_changed(f"model {name} rolled back to epoch {contender.epochs_done}")
        self.finished.results[name] = replace(
            self.finished.results[name],
            status=f"rolled back to epoch {contender.epochs_done}",
            test_accuracy=contender.test_accuracy,
            validation_accuracy=contender.validation_accuracy,
            epochs_done=contender.epochs_done,
        )
        self.view.truncate(name, contender.images_seen)  # Continue draws on from there
        accuracy = f"{contender.test_accuracy:.2%}" if contender.test_accuracy is not None else "not evaluated"
        return f"Model {name} is back at the end of epoch {contender.epochs_done} (test accuracy {accuracy}); Continue trains on from there."

    def _pair_changed(self, how: str) -> None:
        """New weights: scores computed before describe other models."""
        self._scores, self.pair_version, self._pair_how = {}, self.pair_version + 1, how

    def pair_caption(self) -> str:
        """Which models the page's results describe: "Run #7 (A 98.12 %, B 96.40 %)", with a roll-back or import."""
        if self.running:
            return "A run is training now"
        if self.finished is None:
            return "No trained models yet"
        run = f"Run #{self.recorded}" if self.recorded is not None else f"Run {self.pair_version}"
        scores = ", ".join(
            f"{name} {result.test_accuracy:.2%}"
            for name, result in self.finished.results.items()
            if result.test_accuracy is not None
        )
        how = f", {self._pair_how}" if self._pair_how else ""
        return f"{run}{how}" + (f" ({scores})" if scores else "")

    def pair_at(self, epoch: int | None = None) -> dict[str, Contender]:
        """The trained pair as it is (``epoch`` None) or as it was at the end of a saved epoch: copies, so looking
        back never changes the pair that Continue trains on."""
        self._trained_pair("there is nothing to inspect yet.")
        if not self.trained:
            raise SessionError("Train the models first: the last run stopped before its first step.", "Train first")
        if epoch is None:
            return self.contenders
        if epoch not in self.replay_epochs():
            saved = ", ".join(map(str, self.replay_epochs())) or "none yet"
            raise ConfigError(f"epoch must be one saved for both models ({saved}), got {epoch}", "epoch")
        pair = {}
        for name, contender in self.contenders.items():
            saved = contender.checkpoints[epoch]
            module = copy.deepcopy(contender.module)
            module.load_state_dict(saved.weights)
            pair[name] = replace(
                contender, module=module, test_accuracy=saved.test_accuracy, test_images=saved.test_images,
                epochs_done=epoch,
            )  # fmt: skip
        return pair

    def replay_epochs(self) -> list[int]:
        """The epochs both models have a checkpoint of, oldest first."""
        saved = [set(c.checkpoints) for c in self.contenders.values()]
        return sorted(set.intersection(*saved)) if saved else []

    def test_set_scores(self, epoch: int | None = None) -> PairScores:
        """Both models, now or at a saved epoch, on every test image (computed once per state: a second or two on a
        CPU)."""
        pair = self.pair_at(epoch)
        if epoch not in self._scores:
            self._scores[epoch] = score_on_test_set(pair, self.data)
        return self._scores[epoch]

    def test_image(self, number: int | None) -> np.ndarray:
        """Test image ``number`` (uint8 H x W or C x H x W), or the latest sketch or own image as the models saw it
        (``number`` None)."""
        self.pair_at()
        if number is None:
            if self.last_sketch is None:
                raise SessionError(
                    "Draw a digit on the Train & compare tab's sketchpad first (or test an image of your own there), "
                    "or choose a test image.",
                    "Nothing drawn yet",
                )
            return self.last_sketch
        count = len(self.data.test_labels)
        if not isinstance(number, int) or isinstance(number, bool) or not 0 <= number < count:
            raise ConfigError(
                f"test image must be a whole number from 0 to {count - 1}, got {quoted(number)}", "test image"
            )
        return self.test_images([number])[0]

    def explain(self, image: np.ndarray, method: str, epoch: int | None = None) -> dict[str, Explanation]:
        """Both models' reading of a uint8 image as they see it (28x28 white on black), each with ``method``'s
        attribution, its conv layers' feature maps and every layer's activation strength."""
        pair = self.pair_at(epoch)
        check_method(method, pair)
        info = self.data.info
        return {
            name: explain(c, torch.from_numpy(np.ascontiguousarray(image)), info, method) for name, c in pair.items()
        }

    def gradient_flow(self) -> tuple[dict[str, list[GradientEvent]], list[str]]:
        """Both models' sampled gradient norms and dead ReLUs over their training so far, and what they say in
        words (nothing said: they look healthy)."""
        self.pair_at()
        gradients = {name: list(self.view.gradients[name]) for name in NAMES}
        return gradients, [line for events in gradients.values() for line in gradient_health(events)]

    def layer_costs(self) -> dict[str, ModelCost]:
        """Both trained models' cost per layer and latency: measured here and now, a few seconds on a CPU."""
        return {name: measure_costs(c, c.spec.model.input_shape) for name, c in self.pair_at().items()}

    def export_model(self, name: str, file_format: str, folder: Path) -> list[Path]:
        """Model ``name`` written into ``folder`` as ``file_format`` (see model_files.FORMATS); a script comes with
        the safetensors file it loads."""
        pair = self.pair_at()
        if name not in pair:
            raise ConfigError(f"model must be one of {', '.join(NAMES)}, got {quoted(name)}", "model")
        if file_format not in FORMATS:
            raise ConfigError(f"format must be one of {', '.join(FORMATS)}, got {quoted(file_format)}", "format")
        stem = f"cnn_lab_model_{name}_epoch_{pair[name].epochs_done}"
        files = {f"{stem}{FORMATS[file_format]}": file_format}
        if file_format == "pytorch script":
            files[f"{stem}.safetensors"] = "safetensors"
        written = []
        for filename, kind in files.items():
            path = folder / filename
            path.write_bytes(export_model(pair[name], self.data.info, kind, weights_file=f"{stem}.safetensors"))
            written.append(path)
        return written

    def import_model(self, name: str, content: bytes, filename: str = "") -> str:
        """Put the model of a cnn_lab safetensors file into slot ``name``: it reads sketches, is inspected, and
        Continue trains it on. Before any run, the other slot gets a fresh, untrained model of the same build.
        Returns a note for the page."""
        if self.running:
            raise SessionError("Training is in progress: press Stop first, or wait for it to end.", "Busy")
        if name not in NAMES:
            raise ConfigError(f"model must be one of {', '.join(NAMES)}, got {quoted(name)}", "model")
        imported = read_model_file(content, filename)
        data = self._data_of(imported)
        if self.contenders and self.data is not None and self.data.info.title != data.info.title:
            raise ConfigError(
                f"model file: it reads {data.info.title} but the trained pair reads {self.data.info.title}",
                "model file",
            )
        dataset = data.info.key
        module = build_model(imported.spec.model)
        module.load_state_dict(imported.weights)
        contender = Contender(
            name,
            imported.spec,
            module,
            epochs_done=imported.epochs_done,
            checkpoint_budget_bytes=self.workspace.limits.checkpoint_bytes,
        )
        data = self.data or data
        contender.test_accuracy = score_on_test_set({name: contender}, data).accuracy(name)
        contender.test_images = len(data.test_labels)
        self._pair_changed(f"model {name} imported from {filename or 'a file'}")
        if not self.contenders or self.finished is None:  # no pair yet: the other slot starts untrained
            other = next(n for n in NAMES if n != name)
            self.contenders[other] = Contender.create(other, imported.spec)
            self.data, self.run = data, RunConfig(dataset=dataset)
            self.view = RunView(list(NAMES))
            self.finished = RunFinished(IMPORTED, 0.0, {other: ModelResult("untrained", 0, 0, 0.0, 0.0, None)})
        self.contenders[name] = contender
        self.summaries = {n: summarize(c.spec.model, c.module) for n, c in self.contenders.items()}
        result = ModelResult(IMPORTED, 0, 0, 0.0, 0.0, contender.test_accuracy, epochs_done=imported.epochs_done)
        self.finished = replace(self.finished, results={**self.finished.results, name: result})
        return (
            f"Model {name} is the one from {filename or 'the file'} ({self.summaries[name].params:,} parameters, "
            f"{imported.epochs_done} epochs trained): {contender.test_accuracy:.2%} on the {len(data.test_labels):,} "
            "test images here. It reads sketches, is inspected, and Continue trains it on."
        )

    def _data_of(self, imported: ImportedModel) -> Dataset:
        """The dataset an imported model reads: the one its file names if its classes and input fit, else the first
        that fits (this session's upload included)."""
        candidates = [imported.dataset] if imported.dataset in DATASET_INFO else []
        candidates += [k for k, info in DATASET_INFO.items() if info.class_names == imported.class_names]
        if self.uploaded is not None:
            candidates.append(UPLOADED)
        for key in dict.fromkeys(candidates):
            if key != UPLOADED and DATASET_INFO[key].class_names != imported.class_names:
                continue
            try:
                data = self.dataset(key)
            except DataError:
                continue
            if data.info.class_names == imported.class_names and data.image_shape == imported.spec.model.input_shape:
                return data
        raise ConfigError(
            f"model file: no dataset here has its classes ({', '.join(imported.class_names[:12])}) and its input "
            f"{'x'.join(map(str, imported.spec.model.input_shape))}",
            "model file",
        )

    def leaderboard_record(self, who: str) -> dict:
        """The latest run of this session as a leaderboard record signed ``who`` (plain JSON data)."""
        runs = self.workspace.runs.runs(ids=[self.recorded]) if self.workspace.runs and self.recorded else []
        if not runs:
            raise SessionError("Train the models first: a record is made from a run in the history.", "Train first")
        return record_of(runs[0], who)

    def add_leaderboard_records(self, files: list[tuple[bytes, str]]) -> int:
        """Read leaderboard record files (all checked before any is added); returns how many models joined."""
        found = [entry for data, name in files for entry in entries_of(data, name)]
        new = [entry for entry in found if entry not in self.leaderboard_entries]
        self.leaderboard_entries.extend(new)
        return len(new)

    def write_report(self, folder: Path) -> list[Path]:
        """A report of the latest run in ``folder``: an HTML page with its figures embedded, and the same in
        Markdown."""
        self.pair_at()
        if self.view is None or self.view.started_info is None or self.finished.reason == IMPORTED:
            raise SessionError("Train the models first: a report describes a run.", "Train first")
        report = ReportInput(
            ExperimentConfig(self.contenders["A"].spec, self.contenders["B"].spec, self.run),
            self.view.started_info,
            self.finished,
            self.summaries,
            self.test_set_scores(),
            {"accuracy": series(self.view.accuracy_rows), "loss": series(self.view.loss_points(SMOOTHING))},
            self.sample_results(count=RESULT_IMAGES, seed=0),
        )
        stem = f"cnn_lab_report_{datetime.now(timezone.utc):%Y%m%d_%H%M%S}"
        written = [folder / f"{stem}.html", folder / f"{stem}.md"]
        for path, text in zip(written, render(report), strict=True):
            path.write_text(text, encoding="utf-8")
        return written

    def explain_drawing(self, drawing: np.ndarray, method: str) -> tuple[np.ndarray, dict[str, Explanation]]:
        """A drawing (dark ink on white, any size) as the models see it, and both models' explanations of it."""
        self.pair_at()
        drawn = drawing_as_input(drawing, self.input_shape) if self.input_shape[0] == 1 else None
        if drawn is None:
            raise ConfigError("drawing must show a digit, but it has no ink (dark marks on white)", "drawing")
        return drawn, self.explain(drawn, method)

    def test_images(self, index: np.ndarray) -> np.ndarray:
        """Test images (uint8, N x H x W, or N x C x H x W) by index, for galleries."""
        return self.data.test_images[torch.from_numpy(np.asarray(index, dtype=np.int64))].numpy()

    def summary(self) -> pd.DataFrame:
        """Both models' numbers side by side (empty before a run ends)."""
        if self.finished is None:
            return pd.DataFrame(columns=["", "Model A", "Model B"])
        return summary_frame(self.finished.results, self.summaries)

    def checkpoints(self) -> pd.DataFrame:
        return checkpoint_frame(self.contenders)

    def sample_results(self, count: int = RESULT_IMAGES, seed: int | None = None) -> str:
        """A grid of random test images with both models' guesses (HTML), or a hint before the first run."""
        if not self.trained:
            return "<p>Train the models to see their predictions on test images here.</p>"
        data = self.data
        index = np.random.default_rng(seed).choice(len(data.test_labels), count, replace=False)
        images = data.test_images[index]
        probs = predict_images(self.contenders, images, data.info)
        return results_html(images.numpy(), data.test_labels[index].numpy(), probs, data.info.class_names)

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """What the pair reads (C, H, W): its data's images, MNIST's before any run."""
        return self.data.image_shape if self.data is not None else (1, 28, 28)

    def read_sketch(self, drawing: np.ndarray | None) -> SketchReading:
        """Both models' reading of a drawing (dark ink on white, any size)."""
        if self.input_shape[0] != 1:
            return SketchReading(
                {name: None for name in NAMES}, None, "These models read colour images: upload one instead of drawing."
            )
        return self._read(drawing_as_input(drawing, self.input_shape), "Nothing drawn yet.")

    def read_image(self, image: np.ndarray | None) -> SketchReading:
        """Both models' reading of any image (a photo, a scan, a file), prepared like the training images."""
        if image is None:
            return self._read(None, "No image yet.")
        dark = self.data is None or self.data.info.mean[0] < 0.5
        drawable = self.data is None or self.data.info.drawable
        return self._read(image_as_input(image, self.input_shape, dark, drawable), "No image yet.")

    def _read(self, seen: np.ndarray | None, nothing: str) -> SketchReading:
        """Both models' confidences for an image already as they see it (uint8, (H, W) or (C, H, W))."""
        nobody = {name: None for name in NAMES}
        if seen is None:
            return SketchReading(nobody, None, nothing)
        self.last_sketch = seen
        shown = displayable(seen)
        if self.running:
            return SketchReading(nobody, shown, "Training is in progress; try again when it finishes.")
        if not self.trained:
            return SketchReading(
                nobody, shown, "Train the models first: untrained models only guess with random weights."
            )
        info = self.data.info
        probs = predict_images(self.contenders, torch.from_numpy(seen)[None], info)
        confidences = {name: {info.class_names[k]: float(p) for k, p in enumerate(probs[name][0])} for name in NAMES}
        return SketchReading(confidences, shown, "What each model sees and how sure it is.")

    # ------------------------------------------------------------ repeating with seeds

    def repeat_with_seeds(self, setup: ExperimentConfig, seeds: int) -> tuple[str, Iterator[str]]:
        """``setup`` trained once per seed (its own seed, then the next ones), each run kept in the history like any
        other: a warning with the time estimate, then a progress line per update. When they are done (or Stop ends
        them after at least two), ``self.verdict`` says whether A or B is better, with its uncertainty."""
        seeds = check_seeds(seeds)
        setup, data = self.check(setup)
        summaries = {name: summarize(spec.model) for name, spec in zip(NAMES, (setup.a, setup.b))}
        self.workspace.limits.check(setup, summaries, self.images_per_epoch(setup.run), runs=seeds)  # all the seeds
        estimate = estimate_repeat_s(setup, data, seeds)
        self._ask_first(estimate, f"seeds {seeds} ({setup.to_json()})", f"{seeds} runs, one per seed,")
        warning = (
            f"{seeds} A/B runs, one per seed ({setup.run.seed} to {setup.run.seed + seeds - 1}), will take about "
            f"{duration_text(estimate)} here. Press Stop to end them."
        )
        return warning, self._seeded_runs(setup, seeds)

    def _seeded_runs(self, setup: ExperimentConfig, seeds: int) -> Iterator[str]:
        self.verdict, pairs = None, []
        for k in range(seeds):
            seed = setup.run.seed + k
            for _ in self.train(replace(setup, run=replace(setup.run, seed=seed))):
                yield f"Seed {seed} ({k + 1} of {seeds}): {self.view.progress_text()}"
            results = self.finished.results
            if self.finished.reason == "stopped":
                break
            pairs.append((results["A"].test_accuracy, results["B"].test_accuracy))
        if len(pairs) >= 2:
            self.verdict = seed_verdict(pairs)
            yield f"Done: {self.verdict.text}."
        else:
            yield f"Stopped after {len(pairs)} finished seed{'s' if len(pairs) != 1 else ''}: a verdict needs two."

    # ------------------------------------------------------------ cross-validation

    def cross_validate(
        self, setup: ExperimentConfig, model: str, folds: int, images: int | None
    ) -> tuple[str, CrossValidationView, Iterator]:
        """k-fold cross-validation of one of the setup's models (never the trained pair): a warning with its time
        estimate, the view it fills, and its updates."""
        if model not in NAMES:
            raise ConfigError(f"model must be one of {', '.join(NAMES)}, got {quoted(model)}", "model")
        run = replace(setup.run, train_subset=images or None, validation_size=0)
        data = self.dataset(run.dataset)
        setup = fitted(setup, data)
        spec: ModelSpec = check_cross_validation(
            setup.a if model == "A" else setup.b, run, folds, len(data.train_labels)
        )
        images = run.training_images(len(data.train_labels)) * (folds - 1) // folds
        self.workspace.limits.check_work(
            folds * training_flops({model: summarize(spec.model)}, {model: spec.train.epochs}, images),
            f"model {model}, {folds} folds of {images:,} images, {spec.train.epochs} epochs each",
        )
        self._begin()
        try:
            estimate = estimate_cross_validation_s(spec, run, data, folds)
            self._ask_first(
                estimate, f"cross-validation {model} {folds} ({spec!r}, {run!r})", f"{folds}-fold cross-validation"
            )
        except BaseException:
            self.running = False
            raise
        count = run.training_images(len(data.train_labels))
        view = CrossValidationView(
            f"Model {model}, {folds}-fold cross-validation on {count:,} training images (estimated {duration_text(estimate)})",
            folds,
        )
        warning = f"Cross-validation of model {model} will take about {duration_text(estimate)} here ({folds} folds x {spec.train.epochs} epochs). Press Stop to cancel."
        return warning, view, self._relay(CrossValidationJob(spec, run, data, folds), view)
