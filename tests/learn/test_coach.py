"""The coach on real runs built to go wrong (not learning, diverging, overfitting) and on a healthy default run."""

from dataclasses import replace

import pytest

from cnn_lab.core.config import ModelConfig, ModelSpec, RunConfig, TrainConfig
from cnn_lab.core.presets import default_experiment
from cnn_lab.engine.contenders import create_contenders
from cnn_lab.engine.training import train_models
from cnn_lab.learn.coach import coach_text, remarks
from cnn_lab.views.run_view import RunView

SMALL = ModelConfig.from_conv_channels([8, 8, 16, 16])


def scored_on_fewer(data, count: int = 1_000):
    """The data with its first ``count`` test images: every evaluation of a many-epoch run stays cheap."""
    return replace(data, test_images=data.test_images[:count], test_labels=data.test_labels[:count])


def run_view(spec: ModelSpec, run: RunConfig, data) -> RunView:
    """Train one model for real and fold its events into the page's view, as the page does."""
    view = RunView(["A"], validation=run.validation_size > 0)
    for event in train_models(create_contenders({"A": spec}, run), run, scored_on_fewer(data), gradient_every=25):
        view.add(event)
    return view


@pytest.mark.parametrize(
    "spec, run, troubles",
    [
        (ModelSpec(SMALL, TrainConfig("sgd", 1e-5, 32, 1)), RunConfig(train_subset=2_000, seed=1), {"stuck-at-chance"}),
        (
            ModelSpec(SMALL, TrainConfig("sgd", 10.0, 32, 1)),
            RunConfig(train_subset=3_000, seed=2),
            {"loss-is-nan", "diverging"},  # the loss blew up: the run failed, or the watch saw it grow first
        ),
        (
            ModelSpec(ModelConfig.from_conv_channels([16, 32, 32, 32]), TrainConfig("adam", 2e-3, 25, 20)),
            RunConfig(train_subset=400, validation_size=200, seed=1),
            {"overfitting"},
        ),
    ],
    ids=["not learning", "diverging", "overfitting"],
)
def test_the_coach_names_what_went_wrong(mnist, spec, run, troubles):
    view = run_view(spec, run, mnist)
    found = remarks(view)
    assert troubles & {r.trouble for r in found}, [r.text for r in found]
    assert "Coach:" in coach_text(view) and "When training goes wrong" in coach_text(view)


def test_the_coach_is_quiet_on_a_healthy_default_run(mnist):
    setup = default_experiment()
    run = replace(setup.run, train_subset=10_000, evals_per_epoch=1)
    view = RunView(["A", "B"])
    pair = create_contenders({"A": setup.a, "B": setup.b}, run)
    for event in train_models(pair, run, scored_on_fewer(mnist, 2_000), gradient_every=25):
        view.add(event)
    assert remarks(view) == [], [r.text for r in remarks(view)]
    assert "both models learnt as expected" in coach_text(view)


def test_after_a_run_on_part_of_the_images_the_coach_says_how_to_get_more():
    from cnn_lab.core.events import ModelResult, RunFinished, RunStarted

    view = RunView(["A"])
    view.add(RunStarted("CPU", "fp32", "MNIST", 20_000, {"A": 313}, train_available=60_000, test_size=10_000))
    view.add(RunFinished("finished", 9.0, {"A": ModelResult("finished", 313, 20_000, 9.0, 2200.0, 0.975)}))
    assert "trained on 20,000 of the 60,000 training images" in coach_text(view)
    everything = RunView(["A"])
    everything.add(RunStarted("CPU", "fp32", "MNIST", 60_000, {"A": 938}, train_available=60_000))
    everything.add(RunFinished("finished", 9.0, {"A": ModelResult("finished", 938, 60_000, 9.0, 2200.0, 0.98)}))
    assert "More accuracy" not in coach_text(everything)


def test_after_one_epoch_of_a_small_set_the_coach_says_more_epochs_with_augmentation_pay():
    from cnn_lab.core.events import ModelResult, RunFinished, RunStarted

    def view_after(images_seen: int) -> RunView:
        view = RunView(["A"])
        view.add(RunStarted("CPU", "bf16", "Quick, Draw!", 7_488, {"A": 117}, num_classes=7, train_available=7_488))
        view.add(RunFinished("finished", 2.0, {"A": ModelResult("finished", 117, images_seen, 1.2, 6000.0, 0.81)}))
        return view

    once = coach_text(view_after(7_488))
    assert "saw the 7,488 training images once" in once and "*Epochs* 10 and *Augment*" in once
    assert "2 times" in coach_text(view_after(2 * 7_488))
    assert "More accuracy" not in coach_text(view_after(10 * 7_488))  # it has had its epochs
