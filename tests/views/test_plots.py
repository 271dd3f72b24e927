"""Figures drawn from plain data: what they show is the data they were given."""

import numpy as np
from matplotlib.patches import Rectangle

from cnn_lab.inspect.confusion import Calibration
from cnn_lab.views.plots import feature_maps_figure, per_class_chart, per_layer_chart, reliability_diagram


def test_per_class_chart_draws_one_bar_per_class_and_model_at_its_accuracy():
    accuracies = {"A": [0.9, 0.5, 1.0], "B": [0.8, 0.25, 0.0]}
    figure = per_class_chart(("zero", "one", "two"), accuracies, {"A": "#2563eb", "B": "#ea580c"})
    ax = figure.axes[0]
    bars = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert [round(b.get_height(), 6) for b in bars] == [90.0, 50.0, 100.0, 80.0, 25.0, 0.0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["zero", "one", "two"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Model A", "Model B"]
    centres = [b.get_x() + b.get_width() / 2 for b in bars]
    assert centres[0] < 0 < centres[3]  # A left of B in each group


def test_per_layer_chart_has_a_panel_per_model_with_its_own_layers():
    strengths = {"A": {"conv1": 0.5, "relu1": 0.2, "classifier": 3.0}, "B": {"fc1": 1.5, "classifier": 2.0}}
    figure = per_layer_chart(strengths, {"A": "#2563eb", "B": "#ea580c"}, "mean |output|", "how strongly")
    for ax, (name, layers) in zip(figure.axes, strengths.items(), strict=True):
        assert [round(b.get_height(), 6) for b in ax.patches] == list(layers.values())
        assert [t.get_text() for t in ax.get_xticklabels()] == list(layers)
        assert ax.get_title(loc="left") == f"Model {name}: how strongly" and ax.get_ylabel() == "mean |output|"


def test_feature_maps_figure_shows_the_filters_then_one_row_per_conv_layer():
    maps = {"conv1": np.random.default_rng(0).random((8, 28, 28)), "conv2": np.zeros((16, 14, 14))}
    figure = feature_maps_figure("Model A", maps, np.ones((8, 3, 3)))
    titles = [ax.get_title(loc="left") for ax in figure.axes]
    assert titles == [
        "first layer's 8 filters (3x3; red +, blue -)",
        "conv1: 8 maps of 28x28",
        "conv2: 16 maps of 14x14",
    ]
    assert figure.axes[2].images[0].get_array().shape[:2] == (2 * 56 + 2, 8 * 56 + 7 * 2)  # 16 maps in 2 rows of 8


def test_reliability_diagram_draws_each_models_filled_bins_and_the_diagonal():
    nan = float("nan")
    found = Calibration(np.array([nan, 0.35, 0.95]), np.array([nan, 0.5, 0.9]), np.array([0, 4, 96]), 0.054)
    figure = reliability_diagram({"A": found, "B": found}, {"A": "#2563eb", "B": "#ea580c"})
    diagonal, a, b = figure.axes[0].lines
    assert list(diagonal.get_xdata()) == [0, 100]
    assert list(a.get_xdata()) == [35.0, 95.0] and list(a.get_ydata()) == [50.0, 90.0]  # the empty bin is left out
    assert a.get_label() == "Model A (ECE 5.4 %)"
