"""Training a session's pair: a run, more epochs of it, a repeat over seeds, a cross-validation, and their stop.

Each run's updates come back as RunUpdates: iterate them (each item: the view changed, the page is due an update),
then read how the run ended from ``result``."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timezone

import torch

from cnn_lab.core.config import ConfigError, ExperimentConfig, ModelSpec, check_epochs
from cnn_lab.core.errors import quoted
from cnn_lab.core.events import EvalEvent, Event, GradientEvent, RunFinished, Scoring, StepEvent
from cnn_lab.data.datasets import DataError, Dataset
from cnn_lab.engine.contenders import create_contenders
from cnn_lab.engine.crossval import check_cross_validation, estimate_cross_validation_s
from cnn_lab.engine.jobs import CrossValidationJob, Shipped, TrainJob
from cnn_lab.engine.limits import training_flops
from cnn_lab.engine.models import summarize
from cnn_lab.engine.seeds import SeedVerdict, check_seeds, estimate_repeat_s, seed_verdict
from cnn_lab.engine.worker import WorkerDied
from cnn_lab.learn.advice import advice_for, long_run
from cnn_lab.learn.troubleshooting import TROUBLES
from cnn_lab.session.asking import AskFirst
from cnn_lab.session.datasets import Datasets
from cnn_lab.session.history import History
from cnn_lab.session.pair import NAMES, Pair, SessionError, model_name
from cnn_lab.session.speeds import Speeds
from cnn_lab.session.workspace import UPDATE_EVERY_S, Workspace
from cnn_lab.views.run_view import CURVES, ChartOptions, CrossValidationView, RunView, duration_text


@dataclass(frozen=True)
class RunResult:
    """How a run ended, and where the run history keeps it (None: not kept)."""

    finished: RunFinished
    run_id: int | None


class RunUpdates(Iterator[Event | None]):
    """A run's page updates; once they are all read, ``result`` says how it ended (None: a cross-validation, or a
    run that failed). Closing them, even half-way, stops the run and frees the session."""

    def __init__(self, updates: Generator[Event | None, None, RunResult | None]):
        self._updates = updates
        self.result: RunResult | None = None

    def __next__(self) -> Event | None:
        try:
            return next(self._updates)
        except StopIteration as end:
            self.result = end.value
            raise StopIteration from None

    def close(self) -> None:
        self._updates.close()


class Training:
    """One session's runs: each trains the shared pair (or, for cross-validation, copies of a setup's model)."""

    def __init__(self, pair: Pair, workspace: Workspace, datasets: Datasets, history: History):
        self.pair, self.workspace, self.datasets, self.history = pair, workspace, datasets, history
        self.stop_event = threading.Event()
        self.speeds = Speeds(workspace)  # each model's speed here, timed on a worker once per server
        self.ask = AskFirst(workspace, self.speeds)
        self.chart = ChartOptions()  # how this person has the live curves drawn
        self.verdict: SeedVerdict | None = None  # of the latest repeat over seeds
        self.closed = False  # the user left: a run ending now keeps nothing
        self._run = None  # the job now running (a JobRun, ThreadRun or InlineRun)

    @property
    def process(self) -> int | None:
        """The process id of the worker training for this session now (None: no run, or one on a thread)."""
        return getattr(self._run, "pid", None)

    def check(self, setup: ExperimentConfig) -> tuple[ExperimentConfig, Dataset]:
        """``setup`` fitted to the data it trains on, and that data (ConfigError / DataError say what is wrong)."""
        setup, data = self.datasets.fitted(setup)
        train_size = setup.run.training_images(len(data.train_labels))
        for name, spec in zip(NAMES, (setup.a, setup.b)):
            setup.run.check_fits(spec.train, train_size, name)
        return setup, data

    def train(self, setup: ExperimentConfig) -> RunUpdates:
        """Fresh models for ``setup``, then its run. The session is busy from this call on: read the updates at once."""
        setup, data = self.check(setup)
        contenders = create_contenders({"A": setup.a, "B": setup.b}, setup.run, self.workspace.limits.checkpoint_bytes)
        summaries = {c.name: summarize(c.spec.model, c.module) for c in contenders}
        images = self.datasets.images_per_epoch(setup.run)
        self.workspace.limits.check(setup, summaries, images)
        self.ask.before_a_run(setup, data, summaries, images, "this run")
        self._begin()
        pair, before = self.pair, self.pair.as_it_is()
        pair.data, pair.run, pair.finished = data, setup.run, None
        pair.contenders, pair.summaries = {c.name: c for c in contenders}, summaries
        early = tuple(c.name for c in contenders if c.spec.train.early_stopping != "off")
        pair.view = RunView(list(NAMES), validation=setup.run.validation_size > 0, early_stopping=early)
        job = TrainJob(Shipped(contenders), setup.run, data, processes=self.workspace.train_processes)
        return RunUpdates(self._relay(job, pair.view, before))

    def continue_training(self, epochs: int) -> RunUpdates:
        """Both models train ``epochs`` more epochs from where they are, each with its settings from the run."""
        pair = self.pair
        pair.require_trained("there is nothing to continue yet.")
        epochs = check_epochs(epochs, "more epochs")
        images = self.datasets.images_per_epoch(pair.run)
        a, b = (
            replace(pair.contenders[n].spec, train=replace(pair.contenders[n].spec.train, epochs=epochs)) for n in NAMES
        )
        more = ExperimentConfig(a, b, pair.run)
        self.workspace.limits.check(more, pair.summaries, images)  # every cap, as a run's: an imported model's too
        self.ask.before_a_run(more, pair.data, pair.summaries, images, f"{epochs} more epochs")
        self._begin()
        before = pair.as_it_is()  # the session's contenders are not touched by a run: only shipped copies are
        pair.finished = None
        job = TrainJob(Shipped(pair.contenders.values()), pair.run, pair.data, epochs, self.workspace.train_processes)
        return RunUpdates(self._relay(job, pair.view, before))

    def stop(self) -> str:
        """Ask the running training to end after its current batch."""
        if not self.pair.running:
            return "Nothing is training."
        self.stop_event.set()
        return "Stopping after the current batch..."

    def wait_until_idle(self, timeout_s: float) -> bool:
        """Whether the session's run (if any) has ended within ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while self.pair.running and time.monotonic() < deadline:
            time.sleep(0.05)
        return not self.pair.running

    def close(self) -> None:
        """The user left: a run going stops after its batch and keeps nothing."""
        self.closed = True
        self.stop_event.set()
        self.verdict = None

    # ------------------------------------------------------------ the live curves and advice

    def draw_curves(self, x_axis: str, smoothing: float, log_loss: bool, shown: list[str]) -> ChartOptions:
        """Remember how the live curves are drawn: x axis, loss smoothing and log scale, the curves shown (of
        CURVES). A value no control can send is refused by its field, and the choice before it stays."""
        if not isinstance(shown, list | tuple) or not set(shown) <= set(CURVES):
            raise ConfigError(f"curves shown must be some of {', '.join(CURVES)}, got {quoted(shown)}", "curves shown")
        self.chart = ChartOptions(x_axis, smoothing, bool(log_loss), frozenset(CURVES) - set(shown))
        return self.chart

    def chart_csv(self) -> str:
        """Every point of the live charts, with all their x values and the loss as drawn, as CSV."""
        if self.pair.view is None:
            raise SessionError("Train the models first: the charts have no data yet.", "Charts")
        return self.pair.view.chart_csv(self.chart)

    def plan_words(self, setup: ExperimentConfig) -> str:
        """What Train Models will do with ``setup``, in the numbers every tab uses: "both models on 20,000 of
        MNIST's 60,000 training images, 1 epoch, about 15 s on this machine" (each model timed on a few batches
        once per server, see speeds.py)."""
        setup, data = self.datasets.fitted(setup)
        images, available = self.datasets.images_per_epoch(setup.run), len(data.train_labels)
        owner = f"the {data.info.title} sample's" if data.origin == "offline sample" else f"{data.info.title}'s"
        part = f"all {available:,} of {owner}" if images >= available else f"{images:,} of {owner} {available:,}"
        epochs = {spec.train.epochs for spec in (setup.a, setup.b)}
        epoch_words = " / ".join(str(e) for e in sorted(epochs)) + (" epoch" if epochs == {1} else " epochs")
        seconds = estimate_repeat_s(setup, data, 1, self.speeds.seconds_per_image)
        return f"both models on {part} training images, {epoch_words}, about {duration_text(seconds)} on this machine"

    def setting_advice(self, setup: ExperimentConfig) -> tuple[str, str]:
        """Each model's warnings for ``setup`` on its data (a long run timed on a few batches), in words that name
        the Learn tab's entry for each."""
        setup, data = self.datasets.fitted(setup)
        images = self.datasets.images_per_epoch(setup.run)
        texts = []
        for spec in (setup.a, setup.b):
            found = advice_for(spec, data.image_shape)
            slow = long_run(
                spec, setup.run, lambda spec=spec: self.speeds.seconds_per_image(spec, setup.run, data), images
            )
            texts.append(
                "\n\n".join(
                    f"{a.text()} More in *Learn → When training goes wrong → {TROUBLES[a.troubleshooting].symptom}*."
                    for a in (*found, *([slow] if slow else []))
                )
            )
        return texts[0], texts[1]

    # ------------------------------------------------------------ repeats: seeds and folds

    def repeat_with_seeds(self, setup: ExperimentConfig, seeds: int) -> tuple[str, Iterator[str]]:
        """``setup`` trained once per seed (its own seed, then the next ones), each run kept in the history like any
        other: a warning with the time estimate, then a progress line per update. When they are done (or Stop ends
        them after at least two), ``verdict`` says whether A or B is better, with its uncertainty."""
        seeds = check_seeds(seeds)
        setup, data = self.check(setup)
        summaries = {name: summarize(spec.model) for name, spec in zip(NAMES, (setup.a, setup.b))}
        self.workspace.limits.check(setup, summaries, self.datasets.images_per_epoch(setup.run), runs=seeds)
        estimate = estimate_repeat_s(setup, data, seeds, self.speeds.seconds_per_image)
        self.ask.estimated(estimate, f"seeds {seeds} ({setup.to_json()})", f"{seeds} runs, one per seed,")
        warning = (
            f"{seeds} A/B runs, one per seed ({setup.run.seed} to {setup.run.seed + seeds - 1}), will take about "
            f"{duration_text(estimate)} here. Press Stop to end them."
        )
        return warning, self._seeded_runs(setup, seeds)

    def _seeded_runs(self, setup: ExperimentConfig, seeds: int) -> Iterator[str]:
        self.verdict, pairs = None, []
        for k in range(seeds):
            seed = setup.run.seed + k
            updates = self.train(replace(setup, run=replace(setup.run, seed=seed)))
            for _ in updates:
                yield f"Seed {seed} ({k + 1} of {seeds}): {self.pair.view.progress_text()}"
            if updates.result is None or updates.result.finished.reason == "stopped":
                break
            results = updates.result.finished.results
            pairs.append((results["A"].test_accuracy, results["B"].test_accuracy))
        if len(pairs) >= 2:
            self.verdict = seed_verdict(pairs)
            yield f"Done: {self.verdict.text}."
        else:
            yield f"Stopped after {len(pairs)} finished seed{'s' if len(pairs) != 1 else ''}: a verdict needs two."

    def cross_validate(
        self, setup: ExperimentConfig, model: str, folds: int, images: int | None
    ) -> tuple[str, CrossValidationView, RunUpdates]:
        """k-fold cross-validation of one of the setup's models (never the trained pair): a warning with its time
        estimate, the view it fills, and its updates."""
        model = model_name(model)
        run = replace(setup.run, train_subset=images or None, validation_size=0)
        setup, data = self.datasets.fitted(replace(setup, run=run))
        count = run.training_images(len(data.train_labels))
        spec: ModelSpec = check_cross_validation(
            setup.a if model == "A" else setup.b, run, folds, len(data.train_labels)
        )
        images = count * (folds - 1) // folds
        self.workspace.limits.check_work(
            folds * training_flops({model: summarize(spec.model)}, {model: spec.train.epochs}, images),
            f"model {model}, {folds} folds of {images:,} images, {spec.train.epochs} epochs each",
        )
        self._begin()
        try:
            estimate = estimate_cross_validation_s(spec, run, data, folds, self.speeds.seconds_per_image)
            what = f"{folds}-fold cross-validation"
            self.ask.estimated(estimate, f"cross-validation {model} {folds} ({spec!r}, {run!r})", what)
        except BaseException:
            self.pair.running = False
            raise
        view = CrossValidationView(
            f"Model {model}, {folds}-fold cross-validation on {count:,} training images (estimated {duration_text(estimate)})",
            folds,
        )
        warning = f"Cross-validation of model {model} will take about {duration_text(estimate)} here ({folds} folds x {spec.train.epochs} epochs). Press Stop to cancel."
        return warning, view, RunUpdates(self._relay(CrossValidationJob(spec, run, data, folds), view))

    # ------------------------------------------------------------ one run, start to end

    def _begin(self) -> None:
        self.pair.begin()
        self.stop_event = threading.Event()

    def _relay(
        self, job: TrainJob | CrossValidationJob, view: RunView | CrossValidationView, before=lambda: None
    ) -> Generator[Event | None, None, RunResult | None]:
        """Run ``job`` and relay its updates; a training job ends with the trained pair, which becomes the session's.
        If it fails (its process dies, it runs out of memory, it raises), ``before`` puts back the pair it had."""
        timer = None
        try:
            run = self._run = self.workspace.start(job)
            asked, self.stop_event = self.stop_event, run.stop_event
            if asked.is_set():  # Stop was pressed before the run had started
                run.stop_event.set()
            timer = self._time_limit(run.stop_event, view)
            started_at = datetime.now(timezone.utc)
            first_evaluation = len(view.evaluations) if isinstance(job, TrainJob) else 0  # of this run
            outcome = yield from page_updates(run.events(), view)
            if not isinstance(job, TrainJob) or self.closed:  # a closed session keeps nothing
                return None
            finished, shipped = outcome
            self.pair.contenders = {c.name: c for c in shipped.contenders}
            view.add(finished)
            self.pair.finished, self.pair.running = finished, False
            self.history.record(finished, started_at, view.evaluations[first_evaluation:])
            yield finished
            return RunResult(finished, self.pair.recorded)
        except SessionError:
            raise
        except (ConfigError, DataError):  # a setting or the data refused inside the run: said as such, by the field
            before()
            raise
        except Exception as err:  # its process died (WorkerDied), or the run raised: out of memory, a bug
            before()
            kept = "the models are as they were before this run" if self.pair.trained else "no model was trained"
            raise SessionError(
                f"Training ended abruptly: {failure_text(err)}. The server goes on and {kept}. "
                "Try a smaller batch size or model, or fewer epochs.",
                "Training failed",
            ) from None
        finally:  # also reached when the page goes away mid-run (closing the run stops it)
            self.pair.running, self._run = False, None
            if timer is not None:
                timer.cancel()
            self.stop_event = threading.Event()

    def _time_limit(self, stop: threading.Event, view: RunView | CrossValidationView) -> threading.Timer | None:
        """A public server's wall-clock limit: the run stops there, as if Stop was pressed."""
        limit = self.workspace.limits.max_run_s
        if limit is None:
            return None
        timer = threading.Timer(limit, time_up, (stop, view, limit))
        timer.daemon = True
        timer.start()
        return timer


def page_updates(
    events: Generator[Event | None, None, object], view: RunView | CrossValidationView
) -> Generator[Event | None, None, object]:
    """Fold a run's events into ``view`` and yield whenever the page is due an update: at once for a run's start and
    end, failures and alerts, at most every UPDATE_EVERY_S for steps, evaluations and gradient samples (None: a quiet
    moment; on a GPU a small model evaluates many times a second, and each update redraws the page). Returns the
    run's result; closed early, it closes the run (which stops it)."""
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
                isinstance(event, (StepEvent, EvalEvent, GradientEvent, Scoring, type(None)))
                and time.perf_counter() - last < UPDATE_EVERY_S
            ):
                continue
            last = time.perf_counter()
            yield event
    finally:
        events.close()


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
