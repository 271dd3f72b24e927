"""The page <-> config table: every setup field has one place, and a setup survives the round trip through the page's values."""

import dataclasses

import pytest

from cnn_lab.core.config import (
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
from cnn_lab.ui.parts.fields import (
    COLUMN_FIELDS,
    SETUP_FIELDS,
    RawNumber,
    api_values,
    setup_from_list,
    setup_from_values,
    values_of,
)


def test_the_table_names_every_config_field_once():
    assert len(SETUP_FIELDS) == len(set(SETUP_FIELDS)) == 2 * len(COLUMN_FIELDS) + len(dataclasses.fields(RunConfig))
    for name in ("A", "B"):
        assert {f"{name}.{f.name}" for f in dataclasses.fields(TrainConfig)} <= set(SETUP_FIELDS)
    assert {f"run.{f.name}" for f in dataclasses.fields(RunConfig)} <= set(SETUP_FIELDS)


@pytest.mark.parametrize(
    "setup",
    [
        default_experiment(),
        ExperimentConfig(
            ModelSpec(
                ModelConfig((Conv(6, 5, 1, 2), Pool("avg"), Flatten(), Linear(50))),
                TrainConfig("rmsprop", 0.002, 32, 4, ("elastic", "erase"), "step", gamma=0.3),
            ),
            ModelSpec(
                train=TrainConfig(
                    "sgd", 0.05, nesterov=True, loss="hinge", normalize=False, early_stopping="val_accuracy", patience=3
                )
            ),
            RunConfig("fashion_mnist", 8000, 42, "cpu", "fp32", 4, 1000, False),
        ),
    ],
)
def test_a_setup_round_trips_through_the_page_values(setup):
    assert setup_from_values(values_of(setup)) == setup
    assert setup_from_list(api_values(setup)) == setup


def test_a_bad_value_is_named_with_its_model():
    values = values_of(default_experiment()) | {"B.learning_rate": "fast"}
    with pytest.raises(ConfigError, match="Model B · learning_rate must be a number, got 'fast'"):
        setup_from_values(values)
    with pytest.raises(ConfigError, match="Model A · conv 2 channels must be a whole number"):
        setup_from_values(values_of(default_experiment()) | {"A.architecture": "custom", "A.channels": "8, x, 8, 8"})
    with pytest.raises(ConfigError, match="seed must be from 0 to 2147483647, got -1"):
        setup_from_values(values_of(default_experiment()) | {"run.seed": -1})


def test_zero_training_images_means_all_of_them():
    assert setup_from_values(values_of(default_experiment()) | {"run.train_subset": 0}).run.train_subset is None


@pytest.mark.parametrize("value", ["abc", "", "nan", 2.5, None, 10**30])
def test_a_number_box_passes_what_it_got_so_the_check_can_name_the_field(value):
    import gradio as gr

    with gr.Blocks():
        box = RawNumber(1, precision=0, minimum=1)
    assert box.preprocess(value) == value  # unchanged: not rounded, no error
    assert box.get_block_name() == "number"
    values = dict(zip(SETUP_FIELDS, api_values(default_experiment()), strict=True)) | {"A.batch_size": value}
    with pytest.raises(ConfigError, match="Model A · batch_size must be"):
        setup_from_values(values)


def test_a_loaded_setup_keeps_the_custom_architecture_where_its_model_is_that_stack():
    """Set up my first comparison, a share link or an import once switched both columns to the builder silently."""
    from cnn_lab.core.presets import PRESETS, default_experiment
    from cnn_lab.learn.walkthrough import first_comparison
    from cnn_lab.ui.parts.fields import BUILDER, CUSTOM, setup_from_list, values_of

    values = values_of(default_experiment())
    assert (values["A.architecture"], values["A.channels"]) == (CUSTOM, "8, 16, 32, 32")
    assert (values["B.architecture"], values["B.channels"]) == (CUSTOM, "8, 16, 32, 32")
    assert setup_from_list([values[name] for name in SETUP_FIELDS]) == default_experiment()
    first = values_of(first_comparison())
    assert {first["A.architecture"], first["B.architecture"]} == {CUSTOM}
    batch_norm = PRESETS["fast99"].spec  # not the Custom stack: the builder shows its layers
    assert values_of(dataclasses.replace(default_experiment(), a=batch_norm))["A.architecture"] == BUILDER
