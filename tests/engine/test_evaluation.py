"""What a run's evaluations score: a fixed part of the test split within an epoch, the whole split at its end."""

import threading

import pytest
import torch

from cnn_lab.core.config import ModelConfig, ModelSpec, RunConfig, TrainConfig
from cnn_lab.core.events import BestEpochRestored, EvalEvent, RunFinished, StepEvent
from cnn_lab.engine import training
from cnn_lab.engine.contenders import Contender
from cnn_lab.engine.training import train_models

PART = 500  # smaller than both test splits the suite may read (full MNIST's 10,000, the sample's 2,000)
VALIDATION = 100
TINY = ModelConfig.from_conv_channels([4, 8])
real_evaluate = training.evaluate


@pytest.fixture(autouse=True)
def small_part(monkeypatch):
    monkeypatch.setattr(training, "TEST_PART_IMAGES", PART)


def tiny(name: str = "A", **train) -> Contender:
    return Contender.create(name, ModelSpec(TINY, TrainConfig(**{"batch_size": 100, **train})))


def spied_evaluate(monkeypatch, script=None) -> list[torch.Tensor]:
    """Record the labels of every scoring of the test split; validation splits (VALIDATION images) score as
    ``script`` says, one (loss, accuracy) per scoring, where there is one."""
    scored, said = [], iter(script or [])

    def spy(module, images, labels, *args, **kwargs):
        if len(labels) == VALIDATION and script is not None:
            loss, accuracy = next(said)
            return loss, accuracy, (accuracy,) * 10
        scored.append(labels.clone())
        return real_evaluate(module, images, labels, *args, **kwargs)

    monkeypatch.setattr(training, "evaluate", spy)
    return scored


def whole_split_accuracy(contender: Contender, mnist) -> float:
    """A fresh evaluate() of the contender's weights as they are now, over the whole test split."""
    _, accuracy, _ = real_evaluate(
        contender.module,
        mnist.test_images,
        mnist.test_labels,
        contender.normalization(mnist.info),
        contender.spec.train,
        10,
    )
    return accuracy


def test_evaluations_within_an_epoch_score_a_fixed_balanced_part_and_its_end_the_whole_split(mnist, monkeypatch):
    scored = spied_evaluate(monkeypatch)
    a = tiny(epochs=2)
    events = list(train_models([a], RunConfig(train_subset=600, evals_per_epoch=3, precision="fp32"), mnist))
    whole = len(mnist.test_labels)
    evals = [e for e in events if isinstance(e, EvalEvent)]
    assert [e.test_images for e in evals] == [PART, PART, whole] * 2
    assert [len(labels) for labels in scored] == [PART, PART, whole] * 2
    parts = [labels for labels in scored if len(labels) == PART]
    assert all(torch.equal(labels, parts[0]) for labels in parts)  # the same part every time
    share = torch.bincount(parts[0], minlength=10) / PART
    assert torch.allclose(share, torch.bincount(mnist.test_labels, minlength=10) / whole, atol=1.5 / PART)
    result = events[-1].results["A"]
    assert result.test_images == whole and result.test_accuracy == evals[-1].test_accuracy
    assert result.test_accuracy == whole_split_accuracy(a, mnist)
    assert [(saved.test_images, saved.test_accuracy) for saved in a.checkpoints.values()] == [
        (whole, evals[2].test_accuracy),
        (whole, evals[5].test_accuracy),
    ]  # what a roll back shows is the whole split's


def test_the_part_is_the_same_for_both_models_and_for_runs_of_the_same_seed(mnist, monkeypatch):
    def parts(seed: int) -> list[torch.Tensor]:
        scored = spied_evaluate(monkeypatch)
        list(train_models([tiny("A"), tiny("B")], RunConfig(train_subset=400, evals_per_epoch=2, seed=seed), mnist))
        return [labels for labels in scored if len(labels) == PART]

    first, again, other = parts(0), parts(0), parts(1)
    assert len(first) == 2 and torch.equal(first[0], first[1])  # A's and B's
    assert torch.equal(first[0], again[0]) and not torch.equal(first[0], other[0])
    drawn = training.test_part(mnist.test_labels, PART, 3)
    assert torch.equal(drawn, training.test_part(mnist.test_labels, PART, 3)) and len(drawn.unique()) == PART


def test_drawing_the_part_reads_no_global_randomness(mnist):
    torch.manual_seed(0)
    before = torch.get_rng_state()
    training.test_part(mnist.test_labels, PART, 0)
    assert torch.equal(torch.get_rng_state(), before)


def test_a_split_no_larger_than_the_part_is_scored_whole_every_time(mnist, monkeypatch):
    monkeypatch.setattr(training, "TEST_PART_IMAGES", len(mnist.test_labels))
    events = list(train_models([tiny()], RunConfig(train_subset=300, evals_per_epoch=3), mnist))
    assert {e.test_images for e in events if isinstance(e, EvalEvent)} == {len(mnist.test_labels)}


def test_an_early_stop_reports_the_whole_split_of_the_weights_it_keeps(mnist, monkeypatch):
    # validation loss per scoring, two a epoch: best at the end of epoch 2, no better by the end of epoch 4
    losses = [0.95, 0.9, 0.5, 0.3, 0.4, 0.5, 0.45, 0.6]
    spied_evaluate(monkeypatch, [(loss, 0.8) for loss in losses])
    a = tiny(epochs=10, early_stopping="val_loss", patience=2)
    run = RunConfig(train_subset=600, validation_size=VALIDATION, evals_per_epoch=2, precision="fp32")
    events = list(train_models([a], run, mnist))
    kept = next(e for e in events if isinstance(e, BestEpochRestored))
    result = events[-1].results["A"]
    whole = len(mnist.test_labels)
    assert (kept.best_epoch, result.status, result.test_images) == (2, "stopped early", whole)
    assert [e.test_images for e in events if isinstance(e, EvalEvent)] == [PART, whole] * 4
    assert result.test_accuracy == whole_split_accuracy(a, mnist)
    assert f"(test accuracy {result.test_accuracy:.2%})" in kept.message
    assert all(saved.test_images == whole for saved in a.checkpoints.values())


@pytest.mark.parametrize("scoring_s, scored_whole", [(60.0, True), (0.0, False)])
def test_a_stop_right_after_a_part_scores_the_whole_split_when_that_is_quick(
    mnist, monkeypatch, scoring_s, scored_whole
):
    monkeypatch.setattr(training, "STOP_SCORING_S", scoring_s)
    a, stop = tiny(epochs=3), threading.Event()
    events, steps_after_stop = [], 0
    for event in train_models([a], RunConfig(train_subset=600, evals_per_epoch=2, precision="fp32"), mnist, stop):
        events.append(event)
        steps_after_stop += isinstance(event, StepEvent) and stop.is_set()
        if isinstance(event, EvalEvent) and event.epoch == 2:
            stop.set()  # right after epoch 2's scoring of the part: nothing new learnt, but only the part scored
    result = events[-1].results["A"]
    whole = len(mnist.test_labels)
    assert isinstance(events[-1], RunFinished) and result.status == "stopped" and steps_after_stop == 0
    if scored_whole:
        assert result.test_images == whole and result.test_accuracy == whole_split_accuracy(a, mnist)
    else:
        assert result.test_images == PART and result.unscored_steps == 0  # its figure says it is the part's


def test_a_stop_that_cuts_an_epochs_scoring_short_scores_it_and_its_checkpoint_afterwards(mnist, monkeypatch):
    monkeypatch.setattr(training, "STOP_SCORING_S", 60.0)
    stop, real = threading.Event(), training.evaluate

    def stopping(module, images, labels, *args, **kwargs):
        if len(labels) == len(mnist.test_labels) and not stop.is_set():
            stop.set()  # the end of epoch 1's scoring is asked to stop half-way
        return real(module, images, labels, *args, **kwargs)

    monkeypatch.setattr(training, "evaluate", stopping)
    a = tiny(epochs=2)
    events = list(train_models([a], RunConfig(train_subset=600, evals_per_epoch=2, precision="fp32"), mnist, stop))
    result, saved = events[-1].results["A"], a.checkpoints[1]
    assert [e.test_images for e in events if isinstance(e, EvalEvent)] == [PART, len(mnist.test_labels)]
    assert (saved.test_accuracy, saved.test_images) == (result.test_accuracy, len(mnist.test_labels))
    assert result.test_accuracy == whole_split_accuracy(a, mnist)


def test_a_bf16_runs_reported_accuracy_is_what_inspect_scores_after_it(mnist):
    """Inspect, drawings and exported files use the model in fp32: the whole split is scored so in the run too (a bf16
    score once put 96.80 % in the results table beside Inspect's 96.75 % for the same weights)."""
    from cnn_lab.inspect.confusion import score_on_test_set

    a = tiny(epochs=1)
    run = RunConfig(train_subset=1_000, evals_per_epoch=2, precision="bf16")
    finished = list(train_models([a], run, mnist))[-1]
    assert finished.results["A"].test_accuracy == score_on_test_set({"A": a}, mnist).accuracy("A")
