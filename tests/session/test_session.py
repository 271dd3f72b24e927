"""One user's work without a server: a Session trains, stops, continues, rolls back and reads drawings."""

import copy
import os
import re
import signal
import sqlite3
import threading
import time
from dataclasses import replace

import numpy as np
import psutil
import pytest
import torch
from real_drawings import small_fixed_part
from small_runs import SMALL, small_setup

from cnn_lab.core.config import ConfigError, ExperimentConfig, ModelConfig, ModelSpec, RunConfig, TrainConfig
from cnn_lab.core.events import EvalEvent, RunFinished, Scoring, StepEvent
from cnn_lab.core.presets import default_experiment
from cnn_lab.engine.limits import LOCAL
from cnn_lab.engine.worker import WorkerDied
from cnn_lab.runs.history import RunStore
from cnn_lab.session import Session, SessionError, Workspace
from cnn_lab.session.training import failure_text, page_updates


@pytest.fixture(params=["processes", "threads"], ids=["in a worker process", "on a thread"])
def workspace(request, mnist):
    """Runs in worker processes (the app's way), and on the server's threads (``processes=False``)."""
    workspace = Workspace(processes=request.param == "processes")
    workspace.dataset = lambda name: mnist  # the session's data: the shared test dataset, loaded once
    yield workspace
    if workspace.workers is not None:
        workspace.workers.close()


@pytest.fixture
def session(workspace) -> Session:
    return Session(workspace)


def test_a_session_trains_continues_rolls_back_and_reads_a_drawing(session):
    updates = list(session.training.train(small_setup()))
    assert isinstance(updates[-1], RunFinished) and session.pair.trained and not session.pair.running
    assert [row[1] for row in session.inspection.checkpoints().itertuples(index=False) if row[0] == "B"] == [1, 2]
    assert "**Finished**" in session.pair.view.status_text()

    list(session.training.continue_training(1))
    assert session.pair.contenders["A"].epochs_done == 3 and session.pair.finished.results["A"].epochs_done == 3

    note = session.pair.roll_back("A", 1)
    assert note.startswith("Model A is back at the end of epoch 1") and session.pair.contenders["A"].epochs_done == 1
    assert "rolled back to epoch 1" in session.inspection.summary().to_string()

    part = small_fixed_part(10)
    reading = session.inspection.read_sketch(part["images"][list(part["labels"]).index(7)])
    assert reading.preview.shape == (28, 28) and set(reading.confidences) == {"A", "B"}
    assert len(reading.confidences["A"]) == 10 and sum(reading.confidences["B"].values()) == pytest.approx(1, abs=1e-3)
    assert session.inspection.sample_results(count=6, seed=1).count('class="cnn-card"') == 6


def test_inspect_looks_back_at_saved_epochs_and_explains_sketches_and_test_images(session):
    list(session.training.train(small_setup()))
    with pytest.raises(SessionError, match="Draw a digit on the Train & compare tab's sketchpad first"):
        session.inspection.test_image(None)
    assert session.pair.replay_epochs() == [1, 2]
    now = {name: copy.deepcopy(c.module.state_dict()) for name, c in session.pair.contenders.items()}
    then = session.pair.at(1)
    for name, contender in then.items():
        saved = session.pair.contenders[name].checkpoints[1].weights
        assert all(torch.equal(v.cpu(), saved[k]) for k, v in contender.module.state_dict().items())
        live = session.pair.contenders[name].module.state_dict()
        assert all(torch.equal(v, live[k]) for k, v in now[name].items())  # looking back changes nothing
    early, late = session.inspection.test_set_scores(1), session.inspection.test_set_scores()
    assert early.accuracy("A") == pytest.approx(session.pair.contenders["A"].checkpoints[1].test_accuracy, abs=1e-6)
    assert late.accuracy("A") == pytest.approx(session.pair.contenders["A"].test_accuracy, abs=1e-6)
    with pytest.raises(ConfigError, match=r"epoch must be one saved for both models \(1, 2\), got 5"):
        session.pair.at(5)
    with pytest.raises(ConfigError, match="test image must be a whole number from 0 to"):
        session.inspection.test_image(-1)
    gradients, said = session.inspection.gradient_flow()  # 24 steps each: sampled at the first
    assert [e.step for e in gradients["A"]] == [1] and [e.step for e in gradients["B"]] == [1]
    assert isinstance(said, list)

    drawing = small_fixed_part(10)["images"][0]
    reading = session.inspection.read_sketch(drawing)
    assert np.array_equal(session.inspection.test_image(None), reading.preview)
    found = session.inspection.explain(session.inspection.test_image(None), "saliency", epoch=1)
    assert set(found) == {"A", "B"} and found["A"].attribution.shape == (28, 28)
    drawn, again = session.inspection.explain_drawing(drawing, "grad-cam")
    assert np.array_equal(drawn, reading.preview) and again["B"].method == "grad-cam"
    with pytest.raises(ConfigError, match="drawing must show a digit, but it has no ink"):
        session.inspection.explain_drawing(np.full((40, 40), 255, np.uint8), "saliency")


def under_way(updates) -> StepEvent | EvalEvent:
    """The run's first update with progress in it (half a second in): it is under way."""
    return next(u for u in updates if isinstance(u, (StepEvent, EvalEvent)))


def test_stop_ends_a_run_within_a_batch_and_the_models_stay_usable(session):
    updates = session.training.train(small_setup(epochs=50, images=6000))  # 3,000 steps: seconds even on a fast GPU
    under_way(updates)
    assert session.pair.running
    assert session.training.stop() == "Stopping after the current batch..."
    rest = list(updates)
    assert rest[-1].reason == "stopped" and not session.pair.running and session.pair.trained
    assert rest[-1].results["A"].steps < 3000 // 2
    assert session.training.stop() == "Nothing is training."
    assert session.inspection.read_sketch(np.full((280, 280), 255, np.uint8)).note == "Nothing drawn yet."


def test_a_training_process_that_dies_is_reported_and_the_trained_pair_is_kept(mnist):
    workspace = Workspace()
    workspace.dataset = lambda name: mnist
    session = Session(workspace)
    try:
        list(session.training.train(small_setup(epochs=1, images=6000)))
        weights = {name: c.module.state_dict()["conv1.weight"].clone() for name, c in session.pair.contenders.items()}
        updates = session.training.continue_training(50)
        under_way(updates)
        os.kill(session.training.process, signal.SIGKILL)  # what the system does when it runs out of memory
        with pytest.raises(SessionError, match="killed by SIGKILL.*the models are as they were before this run"):
            list(updates)
        assert session.pair.trained and not session.pair.running and session.pair.contenders["A"].epochs_done == 1
        for name, contender in session.pair.contenders.items():
            assert torch.equal(contender.module.state_dict()["conv1.weight"], weights[name])
        assert session.inspection.read_sketch(small_fixed_part(10)["images"][0]).confidences["A"] is not None
        list(session.training.continue_training(1))  # a fresh process takes the next run
        assert session.pair.contenders["A"].epochs_done == 2
    finally:
        workspace.workers.close()


def test_a_run_that_raises_is_reported_and_the_pair_before_it_is_kept(workspace, mnist):
    """A fault injected for real: labels beyond the model's classes make the loss raise inside the run."""
    session = Session(workspace)
    list(session.training.train(small_setup(epochs=1)))
    pair, finished = session.pair.contenders, session.pair.finished
    broken = replace(mnist, train_labels=mnist.train_labels + 10)
    workspace.dataset = lambda name: broken
    with pytest.raises(
        SessionError,
        match=r"it raised IndexError \(Target 1\d is out of bounds.\)\. The server goes on "
        "and the models are as they were before this run",
    ) as refused:
        list(session.training.train(small_setup(epochs=1)))
    assert refused.value.title == "Training failed" and not session.pair.running
    assert session.pair.contenders is pair and session.pair.finished is finished and session.pair.trained
    assert session.inspection.read_sketch(small_fixed_part(10)["images"][0]).confidences["A"] is not None
    workspace.dataset = lambda name: mnist
    list(session.training.continue_training(1))  # the same worker (or thread) takes the next run
    assert session.pair.contenders["A"].epochs_done == 2


def test_a_run_out_of_memory_says_so_with_what_it_asked_for(mnist):
    """Out of memory injected for real: the idle worker's address space is capped (RLIMIT_AS) a little over what it
    holds, so a wide model's first batch cannot be allocated."""
    workspace = Workspace()
    workspace.dataset = lambda name: mnist
    session = Session(workspace)
    try:
        list(session.training.train(small_setup(epochs=1)))
        for pid in workspace.workers.processes:
            worker = psutil.Process(pid)
            worker.rlimit(psutil.RLIMIT_AS, (worker.memory_info().vms + 2**28,) * 2)
        wide = ModelSpec(ModelConfig.from_conv_channels([64, 128, 128, 128]), TrainConfig("adam", 0.001, 500, 1))
        with pytest.raises(SessionError, match=r"it ran out of memory \(it asked for \d+ MB more than the system"):
            list(session.training.train(ExperimentConfig(wide, wide, RunConfig(train_subset=2000, precision="fp32"))))
        assert session.pair.trained and session.pair.contenders["A"].spec.model == SMALL
    finally:
        workspace.workers.close()


@pytest.mark.parametrize(
    "error, said",
    [
        (MemoryError(), "it ran out of memory"),
        (
            torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 79 GiB total)"),
            "it ran out of memory (it asked for 2 GiB more than the system could give)",
        ),
        (RuntimeError("boom\nline two"), "it raised RuntimeError (boom)"),
        (ValueError(), "it raised ValueError"),
        (WorkerDied("the training process was killed by SIGKILL"), "the training process was killed by SIGKILL"),
    ],
)
def test_a_failed_run_is_said_in_words(error, said):
    assert failure_text(error) == said


def test_a_run_estimated_over_the_servers_ask_limit_starts_only_when_asked_for_again(mnist):
    workspace = Workspace(processes=False)
    workspace.dataset = lambda name: mnist
    workspace.limits = replace(LOCAL, ask_over_s=1.0)  # your own server asks over an hour: here over a second
    session = Session(workspace)
    other = small_setup(epochs=19, images=6000)
    with pytest.raises(
        SessionError, match=r"^This run would take about [\d.]+ (s|min) here \(timed on a few batches"
    ) as asked:
        session.training.train(small_setup(epochs=20, images=6000))
    assert asked.value.title == "A long run: are you sure?" and "Press the same button again within 2 minutes" in str(
        asked.value
    )
    assert not session.pair.running and not session.pair.trained
    with pytest.raises(SessionError, match="would take about"):
        session.training.train(other)  # another run is asked about afresh
    updates = session.training.train(other)  # the same one again: it starts
    under_way(updates)
    session.training.stop()
    list(updates)
    assert session.pair.trained
    with pytest.raises(SessionError, match="^19 more epochs would take about"):
        session.training.continue_training(19)
    with pytest.raises(SessionError, match="would take about"):
        session.training.train(other)  # a confirmation starts one run
    list(session.training.train(small_setup(epochs=1, images=600)))  # a short run starts at once, untimed


def test_calls_out_of_turn_are_refused_with_what_to_do(session):
    with pytest.raises(SessionError, match="Train the models first: there is nothing to continue yet"):
        session.training.continue_training(1)
    with pytest.raises(SessionError, match="Train the models first: there are no saved epochs yet"):
        session.pair.roll_back("A", 1)
    drawing = small_fixed_part(10)["images"][0]
    assert session.inspection.read_sketch(drawing).note.startswith("Train the models first")
    updates = session.training.train(small_setup(epochs=50, images=6000))
    under_way(updates)
    with pytest.raises(SessionError, match="A run is already in progress: press Stop first"):
        session.training.train(small_setup())
    assert session.inspection.read_sketch(drawing).note.startswith("Training is in progress")
    session.training.stop()
    list(updates)
    with pytest.raises(ConfigError, match="epoch must be one of the saved epochs"):
        session.pair.roll_back("B", 9)
    with pytest.raises(ConfigError, match="model B: batch_size must be from 1 to 50"):
        bad = small_setup(images=50)
        session.training.train(ExperimentConfig(ModelSpec(SMALL, TrainConfig(batch_size=10)), bad.b, bad.run))
    assert session.pair.trained  # a refused setup leaves the trained pair alone


def test_each_browser_tab_gets_a_fresh_session_on_the_same_workspace(session):
    list(session.training.train(small_setup(epochs=1)))
    copied = copy.deepcopy(session)  # what gr.State does for every new browser session
    assert copied.workspace is session.workspace and not copied.pair.trained and copied.pair.contenders == {}
    assert (
        isinstance(copied.training.stop_event, threading.Event)
        and copied.training.stop_event is not session.training.stop_event
    )


def test_cross_validation_reports_its_estimate_and_leaves_the_pair_alone(session):
    list(session.training.train(small_setup(epochs=1)))
    weights = session.pair.contenders["A"].module.state_dict()["conv1.weight"].clone()
    warning, view, updates = session.training.cross_validate(small_setup(epochs=1), "B", 2, 600)
    assert warning.startswith("Cross-validation of model B will take about") and "Press Stop to cancel" in warning
    list(updates)
    assert "finished" in view.note() and len(view.frame()) == 2 and not session.pair.running
    assert (session.pair.contenders["A"].module.state_dict()["conv1.weight"] == weights).all()


def test_finished_runs_are_kept_in_the_history_and_a_public_server_shows_each_session_its_own(mnist, tmp_path):
    store = RunStore(tmp_path / "runs.sqlite")
    workspace = Workspace(processes=False, runs=store, public=True)
    workspace.dataset = lambda name: mnist
    mine, theirs = Session(workspace), Session(workspace)
    list(mine.training.train(small_setup(epochs=1)))
    list(mine.training.continue_training(1))
    list(theirs.training.train(small_setup(epochs=1)))
    first, second = mine.history.runs()[::-1]
    assert [r.id for r in theirs.history.runs()] == [theirs.pair.recorded] and second.id == mine.pair.recorded
    assert first.status == "finished" and first.setup.run == mine.pair.run and first.models["A"].epochs == 1
    assert second.models["A"].epochs == 2 and second.models["B"].params == mine.pair.summaries["B"].params
    assert [e.epoch for e in second.evaluations if e.model == "A"] == [2]  # this run's own evaluations
    last_of_a = [e for e in first.evaluations if e.model == "A"][-1]
    assert last_of_a.test_accuracy == pytest.approx(first.models["A"].test_accuracy)  # the curve ends at the result
    assert theirs.history.forget([first.id]) == 0 and mine.history.forget([first.id]) == 1
    assert len(store.runs()) == 2 and len(Session(Workspace(processes=False, runs=store)).history.runs()) == 2


def test_a_history_that_cannot_be_written_costs_the_run_nothing(mnist, tmp_path):
    class BrokenStore(RunStore):
        def record(self, run):
            raise sqlite3.OperationalError("database is locked")

    workspace = Workspace(processes=False, runs=BrokenStore(tmp_path / "runs.sqlite"))
    workspace.dataset = lambda name: mnist
    session = Session(workspace)
    updates = list(session.training.train(small_setup(epochs=1)))
    assert isinstance(updates[-1], RunFinished) and session.pair.trained and session.pair.recorded is None
    assert "could not be kept in the run history (database is locked)" in session.pair.view.log_text("A")


def test_a_model_exported_by_one_session_is_imported_by_another_and_trains_on(mnist, tmp_path):
    workspace = Workspace(processes=False)
    workspace.dataset = lambda name: mnist
    first = Session(workspace)
    list(first.training.train(small_setup(epochs=1)))
    (weights,) = first.history.export_model("A", "safetensors", tmp_path)
    assert weights.name == "cnn_lab_model_A_epoch_1.safetensors"
    script, beside = first.history.export_model("B", "pytorch script", tmp_path)
    assert script.suffix == ".py" and beside.suffix == ".safetensors"

    second = Session(workspace)
    note = second.history.import_model("B", weights.read_bytes(), weights.name)
    assert note.startswith("Model B is the one from cnn_lab_model_A_epoch_1.safetensors")
    assert second.pair.trained and second.pair.finished.results["B"].status == "imported"
    assert second.pair.contenders["B"].test_accuracy == pytest.approx(
        first.pair.contenders["A"].test_accuracy, abs=1e-9
    )
    assert second.pair.finished.results["A"].status == "untrained"
    drawing = small_fixed_part(10)["images"][0]
    ours, theirs = (
        second.inspection.read_sketch(drawing).confidences["B"],
        first.inspection.read_sketch(drawing).confidences["A"],
    )
    assert ours == pytest.approx(theirs, abs=1e-5)  # the same model reads the same drawing alike
    assert second.inspection.test_set_scores().accuracy("B") == pytest.approx(second.pair.contenders["B"].test_accuracy)
    list(second.training.continue_training(1))
    assert second.pair.contenders["B"].epochs_done == 2 and second.pair.finished.results["B"].steps > 0
    with pytest.raises(ConfigError, match="looks like a pickle"):
        second.history.import_model("A", b"\x80\x04K\x01.", "model.pt")
    with pytest.raises(ConfigError, match="format must be one of safetensors, onnx, pytorch script, got 'zip'"):
        second.history.export_model("A", "zip", tmp_path)


def test_the_charts_are_drawn_as_chosen_and_an_odd_choice_is_refused_by_name():
    session = Session(Workspace(processes=False))
    chosen = session.training.draw_curves("seconds", 0.3, True, ["A loss", "A test"])
    assert (chosen.x_axis, chosen.smoothing, chosen.log_loss) == ("seconds", 0.3, True)
    assert {"B loss", "B test", "A train"} <= chosen.hidden and "A test" not in chosen.hidden
    for bad, field in (
        (("minutes", 0.3, False, []), "x axis"),
        (("steps", 2.0, False, []), "smoothing"),
        (("steps", 0.3, False, ["C loss"]), "curves shown"),
        (("steps", 0.3, False, "A loss"), "curves shown"),
    ):
        with pytest.raises(ConfigError) as refused:
            session.training.draw_curves(*bad)
        assert refused.value.field == field
    assert session.training.chart == chosen  # the choice before a refused one stays


def test_a_workspace_loads_each_dataset_once_keeps_the_latest_two_and_can_be_let_go(monkeypatch):
    import gc
    import weakref

    workspace = Workspace(processes=False)
    loads = []
    monkeypatch.setattr(workspace, "_load", lambda name: loads.append(name) or f"data of {name}")
    assert [workspace.dataset(name) for name in ("mnist", "mnist", "fashion_mnist")] == [
        "data of mnist", "data of mnist", "data of fashion_mnist",
    ]  # fmt: skip
    workspace.dataset("mnist")  # the newest again: cifar10 pushes out fashion_mnist, not it
    workspace.dataset("cifar10")
    workspace.dataset("mnist")
    assert loads == ["mnist", "fashion_mnist", "cifar10"]
    lonely = Workspace(processes=False)
    lonely.dataset("mnist")
    gone = weakref.ref(lonely)
    del lonely
    gc.collect()
    assert gone() is None  # no cache on the class keeps a Workspace (and its datasets) alive


def test_frequent_scoring_never_starves_the_page_of_progress():
    """Short epochs score their test split every fraction of a second: those notes come at most as often as steps
    do, so a page (and a Stop that waits for a step to show) still sees the run move."""

    def run():
        for k in range(40):  # 2 s: two steps then a whole-split scoring every 0.05 s
            yield StepEvent("A", 1, 2 * k + 1, 80, 1.0, 0.5, 0.01, 100.0, 0)
            yield StepEvent("A", 1, 2 * k + 2, 80, 1.0, 0.5, 0.01, 100.0, 0)
            yield Scoring("A", 1000)
            time.sleep(0.05)

    class View:
        def add(self, event) -> None:
            pass

    shown = list(page_updates(run(), View()))
    assert sum(isinstance(e, StepEvent) for e in shown) >= 2 and len(shown) <= 6  # about one update per 0.5 s


def test_the_plan_before_a_run_names_its_images_and_a_time_the_run_then_keeps(mnist):
    """The first screen's sentence: the default run's image count out of the split's, its epochs, and a time that
    the run itself then takes (within a factor of two: the estimate is a few timed batches)."""
    workspace = Workspace(processes=False)
    workspace.dataset = lambda name: mnist
    session = Session(workspace)
    setup = default_experiment()
    setup = replace(setup, run=replace(setup.run, train_subset=3000))
    words = session.training.plan_words(setup)
    available = len(mnist.train_labels)
    owner = "the MNIST sample's" if mnist.origin == "offline sample" else "MNIST's"
    assert f"both models on 3,000 of {owner} {available:,} training images, 1 epoch, about " in words, words
    estimate = float(re.search(r"about (\d+) s on this machine", words).group(1))
    started = time.perf_counter()
    list(session.training.train(setup))
    took = time.perf_counter() - started
    assert took / 2 <= max(estimate, 1) <= took * 2, (words, took)
