import threading

import pytest
import torch

from cnn_lab.config import Conv, Flatten, ModelConfig, ModelSpec, RunConfig, TrainConfig
from cnn_lab.inference import predict
from cnn_lab.runtime import resolve_device
from cnn_lab.training import Contender, EvalEvent, ModelFailed, RunFinished, RunStarted, StepEvent, train_models

# Bound measured on this machine: 150 steps of batch 64 (9,600 images) take the
# Adam model to 96.2% (full MNIST) / 95.6% (shipped sample) test accuracy and
# the SGD model to 89.2% / 94.9%; chance is 10%.
STEP_BOUND_IMAGES = 9_600


def pair(train_a: TrainConfig, train_b: TrainConfig | None = None) -> list[Contender]:
    return [Contender.create("A", ModelSpec(train=train_a)), Contender.create("B", ModelSpec(train=train_b or train_a))]


def record_batches(contenders, monkeypatch):
    """Spy on the labels each model trains on, in order."""
    seen = {c.name: [] for c in contenders}
    for c in contenders:
        forward = c.module.forward

        def spy(x, name=c.name, forward=forward):
            if torch.is_grad_enabled():
                seen[name].append(x.detach().float().sum(dim=(1, 2, 3)))
            return forward(x)

        monkeypatch.setattr(c.module, "forward", spy)
    return seen


def test_default_pair_learns_real_mnist_on_identical_batches(mnist, monkeypatch):
    contenders = pair(TrainConfig(batch_size=64), TrainConfig(optimizer="sgd", learning_rate=0.05, batch_size=64))
    seen = record_batches(contenders, monkeypatch)
    events = list(train_models(contenders, RunConfig(train_subset=STEP_BOUND_IMAGES, precision="fp32"), mnist))
    assert isinstance(events[0], RunStarted) and events[0].total_steps == {"A": 150, "B": 150}
    finished = events[-1]
    assert isinstance(finished, RunFinished) and finished.reason == "finished"
    for name in "AB":
        assert finished.results[name].test_accuracy > 0.85, finished.results
        steps = [e for e in events if isinstance(e, StepEvent) and e.model == name]
        assert len(steps) == 150 and steps[-1].images_seen == STEP_BOUND_IMAGES
        assert sum(s.loss for s in steps[-30:]) < sum(s.loss for s in steps[:30]) / 3
    assert len(seen["A"]) == len(seen["B"]) == 150
    assert all(torch.equal(a, b) for a, b in zip(seen["A"], seen["B"]))  # same images, same order
    evals = [e for e in events if isinstance(e, EvalEvent)]
    assert {e.model for e in evals} == {"A", "B"} and len(evals[0].per_class_accuracy) == 10


def test_different_batch_sizes_advance_at_the_same_rate(mnist):
    contenders = pair(TrainConfig(batch_size=32, epochs=1), TrainConfig(batch_size=100, epochs=2))
    seen = {"A": 0, "B": 0}
    drift = 0
    for event in train_models(contenders, RunConfig(train_subset=1000), mnist):
        if isinstance(event, StepEvent):
            seen[event.model] = event.images_seen
            if seen["A"] < 1000:  # while both are still training
                drift = max(drift, abs(seen["A"] - seen["B"]))
    assert drift <= 100
    assert seen == {"A": 1000, "B": 2000}


def test_evaluations_are_spread_over_each_epoch(mnist):
    events = train_models(pair(TrainConfig(batch_size=50, epochs=2)), RunConfig(train_subset=600, evals_per_epoch=3), mnist)
    evals = [(e.model, e.epoch, e.step) for e in events if isinstance(e, EvalEvent)]
    assert [step for model, _, step in evals if model == "A"] == [4, 8, 12, 16, 20, 24]
    assert [epoch for model, epoch, _ in evals if model == "B"] == [1, 1, 1, 2, 2, 2]


def test_a_stop_request_ends_the_run_within_one_batch_and_keeps_the_models(mnist):
    contenders = pair(TrainConfig(batch_size=32, epochs=5))
    stop = threading.Event()
    steps_after_stop = 0
    weights = None
    evals_after_stop = []
    for event in train_models(contenders, RunConfig(train_subset=5000), mnist, stop):
        if isinstance(event, EvalEvent):
            evals_after_stop.append(event.model)
        if isinstance(event, StepEvent):
            if stop.is_set():
                steps_after_stop += 1
            elif event.step == 20 and event.model == "B":
                stop.set()
                weights = contenders[0].module.conv1.weight.detach().clone()
    assert event.reason == "stopped" and steps_after_stop == 0
    assert evals_after_stop == ["A", "B"] and event.results["A"].test_accuracy > 0.5  # partial models are scored
    assert event.results["A"].status == "stopped" and event.results["A"].steps == 20
    assert torch.equal(contenders[0].module.conv1.weight, weights)
    probs = predict({"A": contenders[0].module}, torch.zeros(1, 1, 28, 28))["A"]
    assert probs.shape == (1, 10) and abs(probs.sum() - 1) < 1e-5


def test_a_diverging_model_ends_with_a_clear_event_and_keeps_its_last_good_weights(mnist, monkeypatch):
    contenders = pair(TrainConfig(batch_size=64))
    forward, calls = contenders[0].module.forward, []

    def blows_up_at_step_5(x):
        calls.append(1)
        return forward(x) * (float("nan") if len(calls) == 5 else 1.0)

    monkeypatch.setattr(contenders[0].module, "forward", blows_up_at_step_5)
    events = list(train_models(contenders, RunConfig(train_subset=3200), mnist))
    failed = [e for e in events if isinstance(e, ModelFailed)]
    assert len(failed) == 1 and failed[0].model == "A" and failed[0].step == 5
    assert "lower learning rate" in failed[0].message
    assert events[-1].results["A"].status == "failed" and events[-1].results["A"].steps == 4
    assert events[-1].results["B"].status == "finished"
    assert all(torch.isfinite(p).all() for p in contenders[0].module.parameters())


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_both_precisions_train(mnist, precision):
    contenders = [Contender.create("A", ModelSpec(ModelConfig((Conv(8), Flatten())), TrainConfig(batch_size=128)))]
    events = list(train_models(contenders, RunConfig(train_subset=2560, precision=precision), mnist))
    assert events[0].precision == precision
    assert events[-1].results["A"].test_accuracy > 0.8


def test_same_seed_same_curves(mnist):
    def losses():
        events = train_models(pair(TrainConfig(batch_size=64, augment=True)), RunConfig(train_subset=640, seed=5, precision="fp32"), mnist)
        return [e.loss for e in events if isinstance(e, StepEvent)]

    first, second = losses(), losses()
    if resolve_device("auto").type == "cpu":
        assert first == second
    else:  # cuDNN's backward kernels sum in a varying order: equal to float rounding only
        assert first == pytest.approx(second, rel=1e-4)
