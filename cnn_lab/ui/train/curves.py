"""The live charts: loss, accuracy and learning rates as a run draws them, and how they are drawn."""

from __future__ import annotations

import gradio as gr

from cnn_lab.session import NAMES, Session
from cnn_lab.ui.parts.checked import Checkbox, CheckboxGroup, Radio, Slider
from cnn_lab.ui.parts.downloads import download_folder
from cnn_lab.ui.parts.wiring import user_errors
from cnn_lab.views.run_view import (
    ACCURACY_COLORS,
    ACCURACY_FOCUS,
    CHART_SMOOTHING,
    CURVES,
    LOSS_COLORS,
    MAX_CHART_SMOOTHING,
    X_AXES,
    RunView,
)

EVALUATED = ("test", "validation")  # the accuracy curves drawn as points too: a single evaluation is a single point

DOT = 'path("M-4,0a4,4 0 1,0 8,0a4,4 0 1,0 -8,0")'

# Vega draws a line plot's points invisible (shown on hover only), and a line of one point not at all: every
# evaluation is drawn as a dot (each point's aria-label names its curve). Chart text and grid follow a theme switched
# after a chart was drawn (Vega takes its colours once, from the theme of that moment).
CHART_CSS = "".join(
    f'#accuracy-plot .hover_marks path[aria-label$="curve: {name} {kind}"] '
    f"{{ opacity: 1 !important; d: {DOT}; fill: {ACCURACY_COLORS[f'{name} {kind}']}; }}\n"
    for name in NAMES
    for kind in EVALUATED
) + (
    "svg.marks text { fill: var(--body-text-color) !important; }\n"
    "svg.marks .role-axis-grid path, svg.marks .role-axis-tick path { stroke: var(--border-color-primary) !important; }\n"
)

CHARTS = ("loss", "accuracy", "rate A", "rate B")


def chart_frames(session: Session, view: RunView | None = None) -> dict:
    """The loss, accuracy and learning-rate charts' data (of ``view``, else the session's) as the session's chart
    options draw them (axis, smoothing, log scale, curves shown)."""
    options, view = session.training.chart, view or session.pair.view
    return {
        "loss": view.loss_frame(options),
        "accuracy": view.accuracy_frame(options),
        **{f"rate {name}": view.learning_rate_frame(name, options) for name in NAMES},
    }


def curves(session: Session, full_range: bool) -> dict:
    """A run's update of the charts: data only (the accuracy chart with its range). The charts keep the titles that
    draw_curves gave them, and /train's clients get the loss and the rates as plain tables."""
    return with_accuracy_range(chart_frames(session), session, full_range)


def with_accuracy_range(page: dict, session: Session, full_range: bool) -> dict:
    """``page`` with its accuracy table drawn at the chart's range (a component, not data: never within a stream)."""
    return page | {"accuracy": gr.LinePlot(page["accuracy"], y_lim=accuracy_range(full_range, session))}


def titled_curves(session: Session, full_range: bool) -> dict:
    """The charts with the titles that say how they are drawn (the x axis, the smoothing, the log scale)."""
    options, frames = session.training.chart, chart_frames(session)
    x_title = X_AXES[options.x_axis]
    smoothing = f"smoothed {options.smoothing:.2f}" if options.smoothing else "not smoothed"
    return {
        "loss": gr.LinePlot(
            frames["loss"], x_title=x_title, title=f"Training loss ({smoothing})",
            y_title="log10 of the loss (-1 is 0.1)" if options.log_loss else "loss",
        ),
        "accuracy": gr.LinePlot(frames["accuracy"], x_title=x_title, y_lim=accuracy_range(full_range, session)),
        **{f"rate {name}": gr.LinePlot(frames[f"rate {name}"], x_title=x_title) for name in NAMES},
    }  # fmt: skip


def draw_curves(x_axis: str, smoothing: float, log_loss: bool, shown: list[str], full_range: bool, session: Session):
    """The live charts redrawn with another x axis, smoothing, log scale or choice of curves (also during a run: its
    next update draws them so too)."""
    with user_errors("Charts · "):
        session.training.draw_curves(x_axis, smoothing, log_loss, shown)
    if session.pair.view is None:  # nothing drawn yet: the next run draws so
        return {name: gr.skip() for name in CHARTS}
    return titled_curves(session, full_range)


def redraw_curves(full_range: bool, session: Session):
    """The charts' data once more, alone: a chart given new titles and new data in one update sometimes drew the data
    it had before (seen once in a browser test: the title said 0.95, the line was the raw loss); a data-only update
    is what every run's stream sends, and it always draws."""
    return curves(session, full_range) if session.pair.view is not None else {name: gr.skip() for name in CHARTS}


def chart_data(session: Session) -> str:
    """Every point of the live charts (loss raw and smoothed, accuracy, learning rate) on every axis, as a CSV file."""
    with user_errors("Charts · "):
        text = session.training.chart_csv()
    path = download_folder("cnn_lab_curves_", session) / "cnn_lab_curves.csv"
    path.write_text(text)
    return str(path)


def widen_accuracy():
    """The accuracy chart's full range, for a run's curves to show as they climb."""
    return gr.LinePlot(y_lim=[0.0, 100.0])


def accuracy_range(full: bool, session: Session) -> list[float]:
    """0-100 %, or fitted to every point of the curves shown."""
    floor = (
        0.0
        if full
        else session.pair.view.accuracy_floor(session.training.chart.hidden)
        if session.pair.view
        else ACCURACY_FOCUS
    )
    return [floor, 100.0]


def rescale_accuracy(full: bool, session: Session):
    return gr.LinePlot(y_lim=accuracy_range(full, session))


def live_charts() -> dict[str, gr.components.Component]:
    """Progress, loss and accuracy curves, learning rates and logs, by RUN_OUTPUTS name."""
    c = {
        "progress": gr.Textbox(
            label="Progress",
            placeholder="Each model's steps, speed and time left, while a run trains.",
            lines=2,
            max_lines=2,
            interactive=False,
            elem_classes="cnn-mono",
            elem_id="progress",
        ),
        "coach": gr.Markdown("", elem_id="coach"),  # what the curves show, in words (coach.py)
    }
    with gr.Row():
        c["loss"] = gr.LinePlot(
            x="x",
            y="loss",
            color="model",
            title=f"Training loss (smoothed {CHART_SMOOTHING:.2f})",
            x_title="images seen",
            color_map=LOSS_COLORS,
            height=300,
            label="Training loss: a curve per model, from a run's first steps",  # also what the empty frame says
            elem_id="loss-plot",
            buttons=["export", "fullscreen"],  # export: the chart as it is now, as a PNG
        )
        c["accuracy"] = gr.LinePlot(
            x="x",
            y="accuracy",
            color="curve",
            title="Accuracy (%)",
            x_title="images seen",
            y_title="accuracy %",
            y_lim=[90, 100],
            color_map=ACCURACY_COLORS,
            height=300,
            label="Accuracy: each model's training batches and its test scores, as a run goes",
            elem_id="accuracy-plot",
            buttons=["export", "fullscreen"],  # export: the chart as it is now, as a PNG
        )
    c |= chart_controls()
    with gr.Row():  # one chart per model: their rates can differ by orders of magnitude
        for name in NAMES:
            c[f"rate {name}"] = gr.LinePlot(
                x="x",
                y="learning rate",
                color="model",
                title=f"Learning rate, model {name} (live)",
                x_title="images seen",
                y_axis_format="~e",  # 1e-3: Vega's own "0.001000" was cut to "1000" at the chart's edge
                color_map=LOSS_COLORS,
                height=200,
                label=f"Learning rate of model {name} at each step, as a run goes",
                buttons=["export", "fullscreen"],
            )
    return c | run_logs()


def run_logs() -> dict[str, gr.components.Component]:
    """Each model's log, newest line first, by RUN_OUTPUTS name."""
    c = {}
    with gr.Row():
        for name in NAMES:
            c[f"log {name}"] = gr.Textbox(
                label=f"Log, model {name} (newest first)",
                placeholder=f"Model {name}'s steps, evaluations and how its run ended, once you press Train Models.",
                lines=10,
                max_lines=10,
                interactive=False,
                elem_classes="cnn-mono",
                elem_id=f"log-{name}",
            )
    return c


def chart_controls() -> dict[str, gr.components.Component]:
    """How the charts are drawn: x axis, smoothing, log-scale loss, the curves shown, the accuracy range, and the
    data as CSV (each chart's own export button saves it as a PNG)."""
    with gr.Row(elem_id="chart-controls"):
        c = {
            "x axis": Radio(
                [(title, key) for key, title in X_AXES.items()],
                value="images",
                label="x axis",
                min_width=260,
                elem_id="chart-x-axis",
            ),
            "smoothing": Slider(
                0,
                MAX_CHART_SMOOTHING,
                value=CHART_SMOOTHING,
                step=0.01,
                label="Loss smoothing",
                min_width=200,
                info="0 draws every point's mean loss; towards 1, a longer moving average",
                elem_id="chart-smoothing",
            ),
            "log loss": Checkbox(False, label="Log-scale loss", min_width=140, elem_id="chart-log-loss"),
            "full range": Checkbox(
                False,
                label="Accuracy from 0 to 100%",
                min_width=200,
                info="otherwise the axis fits the curves shown: hide the train curves to zoom on the test points",
            ),
        }
    with gr.Row(equal_height=False):
        c["shown"] = CheckboxGroup(
            list(CURVES),
            value=list(CURVES),
            label="Curves shown (validation ones appear with a validation split)",
            scale=3,
            elem_id="chart-curves",
        )
        with gr.Column(scale=1, min_width=200):
            with gr.Accordion("Chart data (CSV)", open=False, elem_id="chart-data"):
                c["chart data"] = gr.Button("Download the chart data (CSV)", size="sm", elem_id="chart-csv")
                c["chart file"] = gr.File(label="Chart data", interactive=False, height=90, elem_id="chart-file")
    return c  # fmt: skip
