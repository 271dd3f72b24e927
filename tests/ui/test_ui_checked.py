"""The page's choice, range and check inputs refuse what they do not offer, naming the field."""

import gradio as gr
import pytest

from cnn_lab.ui.parts.checked import Checkbox, Dropdown, Slider


@pytest.fixture(scope="module")
def inputs():
    with gr.Blocks():
        return (
            Checkbox(False, label="Log-scale loss"),
            Dropdown(["adam", "sgd"], value="adam", label="optimizer"),
            Slider(0, 10, value=1, label="smoothing"),
        )


@pytest.mark.parametrize("value", ["abc", "true", 1, 0, [True], {"x": 1}, 1.5])
def test_a_checkbox_takes_true_or_false_and_nothing_else(inputs, value):
    box = inputs[0]
    with pytest.raises(gr.Error, match="Log-scale loss: must be true or false, got"):
        box.preprocess(value)


def test_a_checkbox_reads_true_false_and_nothing_sent(inputs):
    box = inputs[0]
    assert box.preprocess(True) is True and box.preprocess(False) is False and box.preprocess(None) is False


def test_a_choice_or_a_range_out_of_bounds_names_the_field(inputs):
    _, optimizer, smoothing = inputs
    with pytest.raises(gr.Error, match="optimizer: must be one of adam, sgd, got"):
        optimizer.preprocess(["adam"])
    with pytest.raises(gr.Error, match="smoothing: must be a number from 0 to 10"):
        smoothing.preprocess(99)
