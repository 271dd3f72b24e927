from dataclasses import replace

import pytest

from cnn_lab.core.config import (
    Activation,
    ConfigError,
    Conv,
    ExperimentConfig,
    Flatten,
    Linear,
    ModelConfig,
    ModelSpec,
    Pool,
    RunConfig,
    TrainConfig,
)
from cnn_lab.core.presets import default_experiment
from cnn_lab.engine.contenders import checkpoint_size
from cnn_lab.engine.limits import LOCAL, PUBLIC, ServerLimits, training_flops
from cnn_lab.engine.models import summarize
from cnn_lab.session import Session, Workspace

# What the hostile probe sent a public server: legal, and 227 hours by the page's own estimate
PROBE_MODEL = ModelConfig((*(layer for _ in range(19) for layer in (Conv(160), Activation())), Pool()))
PROBE = ExperimentConfig(
    ModelSpec(PROBE_MODEL, TrainConfig(batch_size=512, epochs=50)),
    ModelSpec(PROBE_MODEL, TrainConfig(batch_size=512, epochs=50)),
    RunConfig(),
)


def summaries(setup: ExperimentConfig) -> dict:
    return {"A": summarize(setup.a.model), "B": summarize(setup.b.model)}


def test_the_probes_days_long_run_is_refused_with_its_numbers():
    with pytest.raises(ConfigError, match="Model A · epochs: at most 20 on this server, got 50"):
        PUBLIC.check(PROBE, summaries(PROBE), 60_000)
    twenty = TrainConfig(batch_size=512, epochs=20)
    fewer_epochs = ExperimentConfig(ModelSpec(PROBE_MODEL, twenty), ModelSpec(PROBE_MODEL, twenty), RunConfig())
    with pytest.raises(ConfigError, match="Model A · layers: at most 2,000,000 parameters on this server"):
        PUBLIC.check(fewer_epochs, summaries(fewer_epochs), 60_000)
    narrower = ModelConfig((*(layer for _ in range(19) for layer in (Conv(64), Activation())), Pool()))
    setup = ExperimentConfig(
        ModelSpec(narrower, twenty), ModelSpec(narrower, twenty), RunConfig()
    )  # every other cap met
    with pytest.raises(
        ConfigError, match=r"this run would take [\d,]+ TFLOPs of training \(both models, 60,000 images"
    ):
        PUBLIC.check(setup, summaries(setup), 60_000)
    LOCAL.check(PROBE, summaries(PROBE), 60_000)  # your own machine: only the config's limits


def test_the_default_pair_and_every_preset_on_full_mnist_fit_a_public_server():
    setup = default_experiment()
    PUBLIC.check(setup, summaries(setup), 60_000)
    work = training_flops(summaries(setup), {"A": 1, "B": 1}, 60_000) / 1e12
    assert 2 < work < 3.5  # 3 x forward FLOPs x images: the default pair's epoch of full MNIST (about 2.65)


def test_parameters_and_training_images_are_capped_by_name():
    wide = ModelConfig((Flatten(), Linear(4096), Activation()))
    setup = ExperimentConfig(ModelSpec(wide), ModelSpec(), RunConfig())
    with pytest.raises(
        ConfigError, match=r"Model A · layers: at most 2,000,000 parameters on this server, this model has 3,"
    ):
        PUBLIC.check(setup, summaries(setup), 60_000)
    setup = default_experiment()
    with pytest.raises(ConfigError, match="train_subset: at most 60,000 training images on this server, got 100,000"):
        PUBLIC.check(setup, summaries(setup), 100_000)


def test_the_page_states_every_limit():
    text = PUBLIC.describe()
    for part in (
        "100 TFLOPs",
        "20 epochs",
        "2,000,000 parameters",
        "60,000 training images",
        "15 minutes per run",
        "saved epochs up to 48 MB per model",
        "uploads up to 500 MB an hour from one address",
    ):
        assert part in text
    assert LOCAL.describe() == ""


def test_a_public_session_refuses_before_it_starts_and_keeps_its_trained_pair(mnist):
    session = Session(Workspace(processes=False, public=True))
    small = default_experiment()
    small = replace(small, run=replace(small.run, train_subset=1000))
    for _ in session.training.train(small):
        pass
    trained = dict(session.pair.contenders)
    with pytest.raises(ConfigError, match="epochs: at most 20"):
        session.training.train(PROBE)
    assert session.pair.contenders == trained and not session.pair.running and session.pair.trained


def test_a_run_past_the_wall_clock_limit_stops_and_says_why(mnist):
    workspace = Workspace(processes=False, public=True)
    workspace.limits = ServerLimits(max_run_s=1.0)
    session = Session(workspace)
    setup = default_experiment()
    setup = replace(
        setup, a=replace(setup.a, train=replace(setup.a.train, epochs=20)), run=replace(setup.run, train_subset=20_000)
    )
    for _ in session.training.train(setup):
        pass
    assert session.pair.finished.reason == "stopped" and session.pair.trained
    assert (
        "stopped at this server's limit of 0.0166667 minutes per run; the models are kept"
        in session.pair.view.status_text()
    )


def test_a_public_server_keeps_fewer_saved_epochs_per_model(mnist):
    """The cap travels with the models to the worker process that trains them, and holds there."""
    workspace = Workspace(public=True)
    workspace.dataset = lambda name: mnist
    session = Session(workspace)
    setup = default_experiment()
    setup = replace(setup, run=replace(setup.run, train_subset=600))
    setup = replace(setup, a=replace(setup.a, train=replace(setup.a.train, epochs=5)))
    try:
        for _ in session.training.train(setup):
            pass
        one = checkpoint_size(session.pair.contenders["A"].checkpoints[5])
        assert sorted(session.pair.contenders["A"].checkpoints) == [
            1,
            2,
            3,
            4,
            5,
        ]  # the public cap is far above 5 of these
        workspace.limits = replace(workspace.limits, checkpoint_bytes=2 * one)
        for _ in session.training.train(setup):
            pass
        assert len(session.pair.contenders["A"].checkpoints) <= 3  # two fit, and the best epoch is always kept
        assert 5 in session.pair.contenders["A"].checkpoints and 1 not in session.pair.contenders["A"].checkpoints
    finally:
        workspace.workers.close()


def test_every_path_that_trains_meets_the_same_caps_counted_over_the_whole_request(mnist):
    """The probe's side doors: Continue for 50 epochs, Continue after loading a model over the parameter cap, and
    a repeat over 20 seeds whose work was counted for one seed."""
    session = Session(Workspace(processes=False, public=True))
    small = default_experiment()
    small = replace(small, run=replace(small.run, train_subset=1000))
    for _ in session.training.train(small):
        pass
    with pytest.raises(ConfigError, match="epochs: at most 20 on this server, got 50"):
        session.training.continue_training(50)
    wide = replace(small.a, model=ModelConfig.from_conv_channels([64, 128, 512, 512]))
    big = {"A": summarize(wide.model), "B": session.pair.summaries["B"]}
    assert big["A"].params > PUBLIC.max_params
    session.pair.summaries, session.pair.contenders["A"].spec = big, wide  # as an imported model would leave them
    with pytest.raises(ConfigError, match="layers: at most 2,000,000 parameters"):
        session.training.continue_training(1)
    one = default_experiment()  # 20 epochs of all the images: 9 TFLOPs on the sample, 53 on MNIST, 20 runs over 100
    ten = {name: replace(spec, train=replace(spec.train, epochs=20)) for name, spec in (("a", one.a), ("b", one.b))}
    heavy = replace(one, **ten, run=replace(one.run, train_subset=None))
    PUBLIC.check(heavy, summaries(heavy), 60_000)
    with pytest.raises(ConfigError, match=r"TFLOPs of training \(.*, 20 runs\)"):
        session.training.repeat_with_seeds(heavy, 20)
    assert not session.pair.running
