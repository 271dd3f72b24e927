import math

import pytest

from cnn_lab.core.config import BatchNorm, ModelConfig, ModelSpec, RunConfig, TrainConfig
from cnn_lab.core.events import RunFinished
from cnn_lab.engine.contenders import Contender
from cnn_lab.engine.learning_watch import GROWTH_STEPS, STALL_STEPS, LearningAlert, LearningWatch, likely_cause
from cnn_lab.engine.optim import chance_loss
from cnn_lab.engine.training import train_models

CHANCE = math.log(10)


def watch(train: TrainConfig | None = None) -> LearningWatch:
    return LearningWatch(
        "B", train or TrainConfig("sgd", 0.05), ModelConfig.from_conv_channels([8, 16, 32, 32]), 10, CHANCE
    )


def feed(w: LearningWatch, losses, accuracies) -> list[LearningAlert]:
    alerts = [w.observe(step, loss, acc) for step, (loss, acc) in enumerate(zip(losses, accuracies), start=1)]
    return [a for a in alerts if a is not None]


def test_chance_loss_is_what_uniform_guessing_scores():
    assert chance_loss(TrainConfig(), 10) == pytest.approx(CHANCE)
    assert chance_loss(TrainConfig(loss="label_smoothing"), 10) == pytest.approx(CHANCE)
    assert 0 < chance_loss(TrainConfig(loss="hinge"), 10) < 1


def test_a_loss_stuck_at_chance_is_reported_once_with_cause_and_fix():
    alerts = feed(watch(), [2.3026] * (STALL_STEPS + 200), [0.11] * (STALL_STEPS + 200))
    assert len(alerts) == 1 and not alerts[0].learning and alerts[0].step == STALL_STEPS
    message = alerts[0].message
    assert message.startswith("Model B is not learning: its loss has stayed at 2.30 (chance: 2.30)")
    assert "SGD at 0.05 with momentum 0.9 can stall a plain ReLU net like this one; try 0.01, or batch norm." in message


def test_a_slow_start_that_then_learns_is_never_flagged():
    losses = [2.30] * (STALL_STEPS - 60) + [2.30 - 0.01 * i for i in range(200)] + [0.3] * 500
    accuracies = [0.1] * (STALL_STEPS - 60) + [0.1 + 0.004 * i for i in range(200)] + [0.9] * 500
    assert feed(watch(), losses, accuracies) == []


def test_a_loss_that_grows_from_its_best_is_reported_and_recovery_is_told():
    losses = [0.2] * 200 + [2.0] * (GROWTH_STEPS + 100) + [0.1] * 200
    accuracies = [0.95] * 200 + [0.5] * (GROWTH_STEPS + 100) + [0.97] * 200
    alerts = feed(watch(TrainConfig("adam", 0.02)), losses, accuracies)
    assert [a.learning for a in alerts] == [False, True]
    assert "its loss has grown from 0.20 to" in alerts[0].message and "Adam at 0.02" in alerts[0].message
    assert alerts[1].message.startswith("Model B is learning again")


def test_accuracy_at_guessing_level_counts_even_when_the_loss_is_far_from_chance():
    alerts = feed(watch(), [40.0] * STALL_STEPS, [0.1] * STALL_STEPS)
    assert len(alerts) == 1 and "training accuracy has stayed at 10% (guessing scores 10%)" in alerts[0].message


def test_causes_name_the_setting_to_change():
    plain = ModelConfig.from_conv_channels([8, 8, 8, 8])
    with_bn = ModelConfig((*plain.layers[:1], BatchNorm(), *plain.layers[1:]))
    assert "try 0.001, or batch norm" in likely_cause(TrainConfig("adam", 0.05), plain)
    assert likely_cause(TrainConfig("adam", 0.05), with_bn).endswith("try 0.001.")
    assert "cross-entropy" in likely_cause(TrainConfig(loss="mse"), plain)
    assert "10 times higher" in likely_cause(TrainConfig("sgd", 1e-5), plain)
    assert "10 times higher" in likely_cause(TrainConfig("sgd", 1e-3), plain)  # Adam's usual rate is SGD's too low


def test_a_real_run_at_a_far_too_high_rate_is_reported_and_a_learning_run_is_not(mnist):
    """Adam at 0.1 kills a plain ReLU net's units within a few steps; Adam at 0.001 learns: same data, same lockstep run."""
    tiny = ModelConfig.from_conv_channels([4, 8, 8, 8])
    contenders = [
        Contender.create("A", ModelSpec(tiny, TrainConfig("adam", 0.001, 16, 1))),
        Contender.create("B", ModelSpec(tiny, TrainConfig("adam", 0.1, 16, 1))),
    ]
    events = list(train_models(contenders, RunConfig(train_subset=16 * (STALL_STEPS + 60), precision="fp32"), mnist))
    alerts = [e for e in events if isinstance(e, LearningAlert)]
    assert [a.model for a in alerts] == ["B"] and not alerts[0].learning
    assert (
        "Adam at 0.1 can push a plain ReLU net like this one into dead units; try 0.001, or batch norm."
        in alerts[0].message
    )
    results = events[-1].results
    assert isinstance(events[-1], RunFinished)
    assert results["A"].not_learning is None and results["A"].test_accuracy > 0.8
    assert results["B"].test_accuracy < 0.2 and results["B"].not_learning.startswith("Model B is not learning: its")
    assert f"for {results['B'].steps - alerts[0].step + STALL_STEPS} steps" in results["B"].not_learning  # to the end


def test_a_run_that_ends_at_chance_before_a_stall_alert_gets_one_verdict_everywhere():
    """Too short for the stall alert, but at chance at its end: the results table, the status line, the coach and
    the log all say it is not learning, in the same words (the table once said "yes" beside the coach's "no")."""
    from cnn_lab.core.events import ModelResult, RunStarted
    from cnn_lab.engine.models import summarize
    from cnn_lab.learn.coach import remarks
    from cnn_lab.views.run_view import RunView, summary_frame

    w = watch()
    assert feed(w, [2.3026] * 50, [0.11] * 50) == []  # no alert: 50 steps is a start, not yet a stall
    verdict = w.verdict(50)
    assert verdict and verdict.startswith("Model B is not learning") and "for 50 steps" in verdict
    learnt = watch()
    feed(learnt, [2.3] * 20 + [0.4] * 30, [0.1] * 20 + [0.9] * 30)
    assert learnt.verdict(50) is None

    view = RunView(["B"])
    view.add(RunStarted("CPU", "fp32", "MNIST", 3200, {"B": 50}))
    result = ModelResult("finished", 50, 3200, 1.0, 3200.0, 0.1135, not_learning=verdict)
    view.add(RunFinished("finished", 1.0, {"B": result}))
    config = ModelConfig.from_conv_channels([8, 16, 32, 32])
    table = summary_frame({"B": result}, {"B": summarize(config)})
    assert table.set_index("").loc["learning", "Model B"] == f"NO: {verdict}"
    assert verdict in view.status_text() and f"WARNING: {verdict}" in view.log_text("B")
    [remark] = remarks(view)
    assert remark.trouble == "stuck-at-chance" and verdict.endswith(remark.text)
