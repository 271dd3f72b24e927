import json

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from cnn_lab.core.config import (
    LIMITS,
    Activation,
    BatchNorm,
    ConfigError,
    Conv,
    Dropout,
    ExperimentConfig,
    Flatten,
    Linear,
    ModelConfig,
    ModelSpec,
    Pool,
    RunConfig,
    TrainConfig,
    default_model,
)
from cnn_lab.engine.models import build_model


def refused(build, field: str, layer: int | None = None, says: str = "") -> ConfigError:
    with pytest.raises(ConfigError) as info:
        build()
    assert info.value.field == field, str(info.value)
    assert info.value.layer == layer, str(info.value)
    if layer is not None:
        assert f"layer {layer}" in str(info.value)
    assert says in str(info.value)
    return info.value


def test_default_model_is_the_pages_four_conv_net():
    config = default_model()
    convs = [layer for layer in config.layers if isinstance(layer, Conv)]
    assert [c.out_channels for c in convs] == [8, 16, 32, 32]  # sized for a 2-core AVX2 CPU's first click
    assert all(c.kernel == 3 for c in convs)
    assert [type(layer).__name__ for layer in config.layers].count("Pool") == 2
    assert config.feature_shape == (32, 7, 7)


# A random valid stack: spatial layers, then maybe flatten + linear layers.
spatial_layer = st.one_of(
    st.builds(Conv, st.integers(1, 24), st.sampled_from([1, 3, 5]), st.integers(1, 2), st.integers(0, 2)),
    st.builds(Pool, st.sampled_from(["max", "avg"]), st.integers(1, 3), st.one_of(st.none(), st.integers(1, 3))),
    st.just(BatchNorm()),
    st.builds(Dropout, st.floats(0, 0.9)),
    st.builds(Activation, st.sampled_from(["relu", "leaky_relu", "elu", "gelu", "silu", "tanh", "sigmoid"])),
)
flat_layer = st.one_of(
    st.builds(Linear, st.integers(1, 64)), st.just(BatchNorm()), st.builds(Activation, st.just("relu"))
)


@st.composite
def valid_models(draw):
    layers = []
    for layer in draw(st.lists(spatial_layer, max_size=7)):
        try:
            ModelConfig(tuple(layers + [layer]))
        except ConfigError:
            continue  # would shrink the image too far: skip it, keep the stack valid
        layers.append(layer)
    if draw(st.booleans()):
        layers += [Flatten(), *draw(st.lists(flat_layer, max_size=3))]
    return ModelConfig(tuple(layers))


@settings(max_examples=60, deadline=None)
@given(valid_models())
def test_inferred_shapes_match_a_real_forward_pass(config):
    model = build_model(config).eval()
    x = torch.zeros(2, *config.input_shape)
    table = config.layer_table()
    for (layer, shape, params), (name, module) in zip(table, model.named_children()):
        x = module(x)
        assert tuple(x.shape[1:]) == shape, (name, layer)
        assert sum(p.numel() for p in module.parameters()) == params
    assert model(torch.zeros(2, *config.input_shape)).shape == (2, 10)
    assert sum(p.numel() for p in model.parameters()) == config.param_count


@settings(max_examples=40, deadline=None)
@given(valid_models())
def test_every_valid_config_round_trips_through_json(config):
    assert ModelConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config


def test_experiment_round_trips_through_json():
    experiment = ExperimentConfig(
        ModelSpec(ModelConfig.from_conv_channels([8, 8, 16, 16]), TrainConfig("sgd", 0.05, 32, 3, augment=True)),
        ModelSpec(ModelConfig((Conv(4, 5, 1, 2), Pool("avg", 2), Flatten(), Dropout(0.3), Linear(32))), TrainConfig()),
        RunConfig("fashion_mnist", 5000, 7, "cpu", "fp32"),
    )
    assert ExperimentConfig.from_json(experiment.to_json()) == experiment


def test_kernel_larger_than_its_input_is_refused_with_layer_and_advice():
    layers = (Conv(8), Pool(), Pool(), Pool(), Conv(8, kernel=5, padding=0))
    error = refused(lambda: ModelConfig(layers), "kernel", 5, "its input is only 3x3")
    assert "conv 5x5" in str(error)
    assert "smaller kernel" in str(error)


def test_stack_shrinking_below_one_pixel_is_refused():
    refused(lambda: ModelConfig((Pool(kernel=2),) * 5), "kernel", 5, "input is only 1x1")
    refused(
        lambda: ModelConfig(
            (Conv(4, kernel=3, stride=8, padding=0), Conv(4, kernel=1, stride=8, padding=0), Pool(kernel=2))
        ),
        "kernel",
        3,
    )


def test_zero_negative_and_absurd_sizes_are_refused():
    refused(lambda: ModelConfig((Conv(0),)), "out_channels", 1, "from 1 to 1024")
    refused(lambda: ModelConfig((Conv(-3),)), "out_channels", 1)
    refused(lambda: ModelConfig((Conv(8), Conv(LIMITS.max_channels + 1))), "out_channels", 2, "1025")
    refused(lambda: ModelConfig((Conv(8, kernel=0),)), "kernel", 1)
    refused(lambda: ModelConfig((Flatten(), Linear(0))), "out_features", 2)
    refused(lambda: ModelConfig((Conv(3.5),)), "out_channels", 1, "whole number")


def test_dropout_p_must_be_in_zero_to_one():
    refused(lambda: ModelConfig((Dropout(1.0),)), "p", 1, "below 1")
    refused(lambda: ModelConfig((Dropout(-0.1),)), "p", 1)


def test_wrong_layer_order_is_explained():
    refused(lambda: ModelConfig((Linear(10),)), "type", 1, "add a flatten layer")
    refused(lambda: ModelConfig((Flatten(), Conv(4))), "type", 2, "after a flatten")
    refused(lambda: ModelConfig((Activation("swish"),)), "kind", 1, "relu")


def test_parameter_cap():
    refused(lambda: ModelConfig((Flatten(), Linear(4096), Linear(4096))), "parameters", None, "at most 5,000,000")


def test_training_settings_are_bounded():
    refused(lambda: TrainConfig(epochs=51), "epochs", None, "from 1 to 50")
    refused(lambda: TrainConfig(batch_size=0), "batch_size", None, "from 1 to 4096")
    refused(lambda: TrainConfig(batch_size=4097), "batch_size")
    refused(lambda: TrainConfig(learning_rate=0), "learning_rate", None, "above 0")
    refused(lambda: TrainConfig(learning_rate="fast"), "learning_rate")
    refused(lambda: TrainConfig(optimizer="lbfgs"), "optimizer", None, "adam, adamw, sgd, rmsprop")
    refused(lambda: RunConfig(precision="fp16"), "precision", None, "auto, fp32, bf16")
    refused(lambda: RunConfig(device="tpu"), "device")
    refused(lambda: RunConfig(dataset="cifar"), "dataset")
    refused(
        lambda: RunConfig().check_fits(TrainConfig(batch_size=600), 500, "A"),
        "batch_size",
        None,
        "model A: batch_size must be from 1 to 500",
    )


def test_simple_mode_names_the_bad_channel():
    refused(lambda: ModelConfig.from_conv_channels([16, 0, 64, 64]), "conv2_channels", None, "from 1 to 1024")
    refused(lambda: ModelConfig.from_conv_channels([16, 32, 64, 2000]), "conv4_channels")


def test_malformed_dicts_are_refused_cleanly():
    refused(lambda: ModelConfig.from_dict({"layers": [{"type": "transformer"}]}), "type", 1, "conv, pool")
    refused(
        lambda: ModelConfig.from_dict({"layers": [{"type": "conv", "out_channels": 4, "dilation": 2}]}), "dilation", 1
    )
    refused(lambda: ModelConfig.from_dict({"layers": "conv"}), "layers")
    refused(lambda: ExperimentConfig.from_json("{not json"), "json")
    refused(lambda: ExperimentConfig.from_dict({"a": {}, "c": {}}), "c")
    refused(lambda: ExperimentConfig.from_dict({"run": {"seed": -1}}), "seed")


def test_training_options_are_bounded_and_named():
    refused(lambda: TrainConfig(optimizer="lbfgs"), "optimizer", None, "adam, adamw, sgd, rmsprop, adadelta")
    refused(lambda: TrainConfig(momentum=1.0), "momentum", None, "at least 0 and below 1")
    refused(lambda: TrainConfig(weight_decay=-0.1), "weight_decay", None, "at least 0 and at most 1")
    refused(lambda: TrainConfig(beta2=1), "beta2", None, "below 1")
    refused(lambda: TrainConfig(schedule="linear"), "schedule", None, "constant, step, exponential, cosine, onecycle")
    refused(lambda: TrainConfig(epochs=2, warmup_epochs=2), "warmup_epochs", None, "below 2")
    refused(lambda: TrainConfig(gamma=0), "gamma", None, "above 0 and at most 1")
    refused(lambda: TrainConfig(loss="focal"), "loss", None, "cross_entropy, label_smoothing, hinge, mse")
    refused(lambda: TrainConfig(label_smoothing=1), "label_smoothing")
    refused(lambda: TrainConfig(early_stopping="val_f1"), "early_stopping")
    refused(lambda: TrainConfig(patience=0), "patience", None, "from 1 to 50")
    refused(
        lambda: TrainConfig(augment=["rotate", "blur"]), "augment", None, "rotate, shift, scale, stroke, elastic, erase"
    )
    refused(lambda: TrainConfig("sgd", nesterov=True, momentum=0), "momentum", None, "nesterov needs a momentum")
    refused(lambda: TrainConfig(normalize="yes"), "normalize")
    refused(lambda: RunConfig(validation_size=-1), "validation_size")
    refused(
        lambda: RunConfig(validation_size=500).check_fits(TrainConfig(), 500), "validation_size", None, "from 0 to 499"
    )
    refused(
        lambda: RunConfig(validation_size=450).check_fits(TrainConfig(batch_size=64), 500, "B"),
        "batch_size",
        None,
        "after holding out 450",
    )
    refused(
        lambda: RunConfig().check_fits(TrainConfig(early_stopping="val_loss"), 500, "A"),
        "early_stopping",
        None,
        "needs a validation split",
    )


def test_optimizer_defaults_follow_the_optimizer_and_old_setups_still_load():
    assert TrainConfig("sgd").momentum == 0.9 and TrainConfig("rmsprop").momentum == 0.0
    assert TrainConfig("adamw").weight_decay == 0.01 and TrainConfig("adam").weight_decay == 0.0
    assert (
        TrainConfig(augment=True).augment == ("rotate", "shift", "scale", "stroke")
        and TrainConfig(augment=False).augment == ()
    )
    assert TrainConfig(augment=["erase", "rotate", "erase"]).augment == ("rotate", "erase")
    old = {
        "optimizer": "sgd",
        "learning_rate": 0.05,
        "batch_size": 32,
        "epochs": 2,
        "augment": True,
        "schedule": "onecycle",
    }
    assert TrainConfig.from_dict(old) == TrainConfig("sgd", 0.05, 32, 2, True, "onecycle")


def test_every_training_option_round_trips_through_json():
    train = TrainConfig(
        "rmsprop",
        0.002,
        32,
        4,
        ("elastic", "erase"),
        "step",
        0.001,
        0.5,
        False,
        0.8,
        0.99,
        0.95,
        0.5,
        0.3,
        2.0,
        "hinge",
        0.2,
        False,
        "val_accuracy",
        3,
    )
    experiment = ExperimentConfig(
        ModelSpec(train=train), ModelSpec(), RunConfig(validation_size=5000, identical_init=False)
    )
    assert ExperimentConfig.from_json(experiment.to_json()) == experiment
