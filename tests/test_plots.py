"""Figures drawn from plain data: what they show is the data they were given."""

from matplotlib.patches import Rectangle

from cnn_lab.plots import per_class_chart


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
