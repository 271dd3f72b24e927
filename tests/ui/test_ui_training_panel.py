import gradio as gr
import pytest

from cnn_lab.core.config import ConfigError, TrainConfig
from cnn_lab.session import Session, Workspace
from cnn_lab.ui.parts.fields import SETUP_FIELDS, TRAIN_FIELDS, train_config, train_values
from cnn_lab.ui.train import train_tab
from cnn_lab.ui.train.training_panel import BASICS, schedule_frame, typical_settings
from cnn_lab.views.labels import CHOICE_LABELS, LABELS, choice_label


def test_a_column_reads_back_the_config_it_shows():
    train = TrainConfig(
        "sgd",
        0.02,
        32,
        3,
        ("rotate", "erase"),
        "cosine",
        nesterov=True,
        warmup_epochs=0.5,
        loss="mse",
        early_stopping="val_loss",
    )
    assert train_config(dict(zip(TRAIN_FIELDS, train_values(train)))) == train


def test_text_from_api_callers_is_read_as_numbers_and_bad_text_is_named():
    values = dict(zip(TRAIN_FIELDS, train_values(TrainConfig())))
    assert train_config(values | {"learning_rate": "0.01", "epochs": "2", "gamma": "0.5"}) == TrainConfig(
        learning_rate=0.01, epochs=2, gamma=0.5
    )
    with pytest.raises(ConfigError, match="momentum must be a number, got 'lots'"):
        train_config(values | {"momentum": "lots"})


def test_the_schedule_preview_spans_the_run_and_peaks_at_the_rate():
    frame = schedule_frame(60_000, *train_values(TrainConfig(learning_rate=0.01, epochs=3, schedule="onecycle")))
    assert (
        frame["epoch"].min() == 0
        and 2.9 < frame["epoch"].max() < 3
        and frame["learning rate"].max() == pytest.approx(0.01, rel=0.01)
    )
    assert len(frame) <= 400
    broken = list(train_values(TrainConfig()))
    broken[TRAIN_FIELDS.index("learning_rate")] = 0
    assert schedule_frame(60_000, *broken).empty  # nothing drawn for a setting the Train button would refuse


def test_picking_an_optimizer_suggests_its_usual_values():
    assert (
        typical_settings("adadelta") == (1.0, 0.0, 0.0)
        and typical_settings("sgd") == (0.01, 0.9, 0.0)
        and typical_settings("adamw")[2] == 0.01
    )


def test_the_preview_steps_the_run_s_own_epochs_so_a_short_warm_up_shows():
    frame = schedule_frame(
        60_000, *train_values(TrainConfig(learning_rate=0.01, epochs=3, warmup_epochs=0.05))
    )  # 47 warm-up steps of 938
    assert frame["learning rate"].iloc[0] == pytest.approx(0.0001) and frame["learning rate"].iloc[-1] == pytest.approx(
        0.01
    )


def test_whole_numbers_may_come_as_text_with_a_decimal_point():
    values = dict(zip(TRAIN_FIELDS, train_values(TrainConfig())))
    assert train_config(values | {"epochs": "3.0"}).epochs == 3
    with pytest.raises(ConfigError, match="epochs must be a whole number from 1 to 50, got 2.5"):
        train_config(values | {"epochs": "2.5"})


def test_every_setup_control_explains_itself_with_its_range_or_a_start_value():
    """Checked from the page's own components: each visible setup input carries an explanation, and every
    training control says where a beginner starts."""
    with gr.Blocks():
        tab = train_tab(gr.State(Session(Workspace(processes=False))), "auto", 2)
    for name in SETUP_FIELDS:
        component = tab.setup[name]
        if name.endswith(".layers"):  # the builder's hidden list: its rows explain themselves
            continue
        assert (component.info or "").strip(), f"{name} has no explanation"
        field = name.split(".", 1)[1]
        if field in BASICS:  # the hint names the value this model starts at (B's once said A's "start: Adam")
            shown = choice_label(field, component.value) if field in CHOICE_LABELS else component.value
            assert component.info.endswith(f"starts at {shown}"), (name, component.info)
        elif field in LABELS:
            assert "start:" in LABELS[field][1], f"{name} gives a beginner no starting value"
    assert tab.setup["A.optimizer"].info.endswith("Adam") and tab.setup["B.optimizer"].info.endswith("SGD")
    assert (
        "8, 16, 32, 32" in tab.setup["B.channels"].info and "8, 16, 32, 32" in tab.setup["A.channels"].info
    )  # one model, two optimizers
