"""A run on the page: train, train a whole setup, continue, roll back, cross-validate; each streams the page."""

from __future__ import annotations

import gradio as gr
import pandas as pd

from cnn_lab.core.config import MAX_FOLDS, ExperimentConfig
from cnn_lab.core.sharing import experiment_from_token
from cnn_lab.learn.coach import coach_text
from cnn_lab.session import NAMES, Session
from cnn_lab.ui.parts.checked import Radio
from cnn_lab.ui.parts.fields import RawNumber, in_page_order, number_from_text, setup_from_list
from cnn_lab.ui.parts.stop import stop
from cnn_lab.ui.parts.wiring import by_name, user_errors
from cnn_lab.ui.train.curves import (
    CHARTS,
    chart_data,
    chart_frames,
    draw_curves,
    redraw_curves,
    rescale_accuracy,
    widen_accuracy,
    with_accuracy_range,
)
from cnn_lab.ui.train.results import (
    EMPTY_SUMMARY,
    NO_CHECKPOINTS,
    RESULTS_WHILE_TRAINING,
    new_images,
    predict_image,
    predict_sketch,
    reread_sketch,
    sketch_shown,
)
from cnn_lab.views.run_view import CrossValidationView, RunView

RUN_OUTPUTS = (
    "status",
    "progress",
    "loss",
    "accuracy",
    "log A",
    "log B",
    "results",
    "summary",
    "rate A",
    "rate B",
    "checkpoints",
    "coach",
)


def live_page(session: Session, finished: bool = False, view: RunView | None = None) -> dict:
    """The page's view of the session's run (``view``, else the session's) as plain values (the charts as tables);
    the results and table once the run has ended: while it runs, they say so (the last run's numbers beside this
    run's curves would belong to models that no longer exist)."""
    view = view or session.pair.view
    page = {
        "status": view.status_text(),
        "progress": view.progress_text(),
        **chart_frames(session, view),
        **{f"log {name}": view.log_text(name) for name in NAMES},
        "coach": coach_text(view),
    }
    if not finished:  # the run's epochs are saved in its worker: the table shows them when it ends
        return page | {"results": RESULTS_WHILE_TRAINING, "summary": EMPTY_SUMMARY, "checkpoints": NO_CHECKPOINTS}
    return page | {
        "results": session.inspection.sample_results(),
        "summary": session.inspection.summary(),
        "checkpoints": session.inspection.checkpoints(),
    }


def run_page(session: Session, full_range: bool, finished: bool = False) -> dict:
    """The page at once (not streamed), the accuracy chart with its range."""
    return with_accuracy_range(live_page(session, finished), session, full_range)


def stream_run(session: Session, updates):
    """A page per update, the charts as data only: the accuracy chart's range is set before the run (the full range,
    so that every curve shows while it climbs) and after it (see wire_training). A chart given a range with its data
    (a component) in a stream kept showing its first data on the page, and switching between the two within one
    stream broke it: Gradio's JavaScript client applies a stream's diffs in place to the object a chart holds. A range
    also makes Gradio rebuild the chart's config on the server, about 15 ms an update (py-spy). The run's updates are
    iterated from the first moment on: closing this stream (a closed tab) then always reaches the session's clean-up,
    which stops the run and frees the session, as does a page that fails to draw (the run would go on unseen, and
    the session would stay busy)."""
    try:
        for _ in updates:
            view = session.pair.view
            if view is None:  # the person left mid-run (the session was closed): nobody to show it to
                return
            yield live_page(session, session.pair.finished is not None, view)
    finally:
        updates.close()


def train(*values):
    """Train a fresh pair. Inputs: the setup's values in the page's order (see docs/api.md), then whether the accuracy chart shows 0-100 %
    (the page applies it when the run ends: the stream sends every chart as a table). Streams status, progress, loss curve,
    accuracy curve, log A, log B, results HTML, summary table, learning-rate curves A and B, saved epochs, and the coach's
    words on the curves."""
    *setup, full_range, session = values
    with user_errors():
        updates = session.training.train(setup_from_list(setup))
        yield from stream_run(session, updates)


def train_setup(setup: str, full_range: bool, session: Session):
    """Train a fresh pair from a whole setup: the JSON of *Export setup*, or a share link's token (the text after ?setup=).
    Streams the same outputs as /train."""
    with user_errors("setup · "):
        text = (setup or "").strip()
        experiment = ExperimentConfig.from_json(text) if text.startswith("{") else experiment_from_token(text)
        yield from stream_run(session, session.training.train(experiment))


def continue_training(more_epochs, full_range: bool, session: Session):
    """Both trained models train `more_epochs` more epochs from where they are (streams like /train)."""
    with user_errors():
        updates = session.training.continue_training(number_from_text(more_epochs, "more epochs"))
        yield from stream_run(session, updates)


def roll_back(model: str, epoch, full_range: bool, session: Session) -> dict:
    """Model `model` ("A" or "B") back to a saved epoch. Returns a note, the summary, results, saved epochs and the redrawn charts."""
    with user_errors():
        note = session.pair.roll_back(model, number_from_text(epoch, "epoch"))
    return {"rollback note": note} | run_page(session, full_range, finished=True)


def run_cross_validation(*values):
    """k-fold cross-validation of one model of the setup: the setup's values, then the model ("A" or "B"), k and the training images."""
    *setup, model, folds, images, session = values
    with user_errors("Cross-validation · "):
        warning, view, updates = session.training.cross_validate(
            setup_from_list(setup), model, number_from_text(folds, "folds"), number_from_text(images, "train_subset")
        )
        gr.Warning(warning)
        for _ in updates:  # iterated at once, so that a closed tab always reaches the session's clean-up
            yield view.note(), view.frame()


def cross_validation_section() -> dict[str, gr.components.Component]:
    with gr.Accordion("Cross-validation (k-fold) of one model", open=False):
        gr.Markdown(
            "Trains the model k times from the same initial weights, each time validating on a different k-th of the images, "
            "and reports the mean and spread of validation accuracy: how much a score depends on the split. "
            "It costs k trainings; you get a time estimate before it starts."
        )
        with gr.Row():
            c = {
                "model": Radio(list(NAMES), value="A", label="Model"),
                "folds": RawNumber(5, label="Folds (k)", precision=0, info=f"2 to {MAX_FOLDS}"),
                "images": RawNumber(
                    5000, label="Training images", precision=0, info="split into k folds (0 = all); smaller is faster"
                ),
                "run": gr.Button("Run cross-validation", elem_id="cross-validate"),
            }
        c["status"] = gr.Markdown("")
        c["table"] = gr.Dataframe(pd.DataFrame(columns=CrossValidationView.COLUMNS), label="Folds", interactive=False)
    return c


def training_slots(max_concurrent_trainings: int) -> dict:
    """The queue settings of every event that trains: they share ``max_concurrent_trainings`` slots."""
    return dict(concurrency_limit=max_concurrent_trainings, concurrency_id="training", show_progress="minimal")


def wire_training(c: dict, cv: dict, setup: dict, session: gr.State, max_concurrent_trainings: int) -> None:
    """The runs (train, train_setup, continue, cross-validate share the training slots), stop, roll back, results, sketch."""
    setup_inputs = in_page_order(setup)
    run_outputs = {name: c[name] for name in RUN_OUTPUTS}  # the order /train's clients read
    outputs, full_range = list(run_outputs.values()), c["full range"]
    slots = training_slots(max_concurrent_trainings)
    training = slots | dict(show_progress_on=[c["status"]])
    accuracy = c["accuracy"]

    sketch_outputs = {k: c[k] for k in ("label A", "label B", "preview", "sketch note")}

    def around_a_run(trigger, handler, inputs: list, api_name: str) -> None:
        """A streamed run with the accuracy chart at its full range while the curves climb, focused again after it
        (also after a refusal or a stop), then the drawing on the pad read by the new models; see stream_run."""
        trigger(widen_accuracy, None, accuracy, api_name=False, queue=False).then(
            by_name(handler, run_outputs), inputs, outputs, api_name=api_name, **training
        ).then(rescale_accuracy, [full_range, session], accuracy, api_name=False).then(
            by_name(reread_sketch, sketch_outputs), [c["sketch"], session], list(sketch_outputs.values()),
            api_name=False, show_progress="hidden",
        )  # fmt: skip

    around_a_run(c["train"].click, train, [*setup_inputs, full_range, session], "train")
    setup_text = gr.Textbox(visible=False)  # /train_setup's input: programs send a whole setup (JSON or share token)
    around_a_run(setup_text.submit, train_setup, [setup_text, full_range, session], "train_setup")
    around_a_run(c["continue"].click, continue_training, [c["more epochs"], full_range, session], "continue_training")
    rolled = {"rollback note": c["rollback note"]} | run_outputs
    c["rollback"].click(
        by_name(roll_back, rolled), [c["rollback model"], c["rollback epoch"], full_range, session],
        list(rolled.values()), api_name="roll_back",
    )  # fmt: skip
    cv["run"].click(
        run_cross_validation, [*setup_inputs, cv["model"], cv["folds"], cv["images"], session], [cv["status"], cv["table"]],
        api_name="cross_validate", **slots, show_progress_on=[cv["status"]],
    )  # fmt: skip
    c["stop"].click(stop, session, c["status"], api_name="stop", queue=False)
    c["new images"].click(new_images, session, c["results"], api_name="new_images")
    full_range.change(rescale_accuracy, [full_range, session], c["accuracy"], api_name=False)
    chart_inputs = [c["x axis"], c["smoothing"], c["log loss"], c["shown"], full_range, session]
    charts = {name: c[name] for name in CHARTS}
    gr.on(
        [c["x axis"].change, c["smoothing"].change, c["log loss"].change, c["shown"].change],
        by_name(draw_curves, charts), chart_inputs, list(charts.values()), api_name="draw_curves",
        show_progress="hidden", trigger_mode="always_last",
    ).then(
        by_name(redraw_curves, charts), [full_range, session], list(charts.values()), api_name=False,
        show_progress="hidden",
    )  # fmt: skip
    c["chart data"].click(chart_data, session, c["chart file"], api_name="chart_data")
    c["sketch"].change(
        by_name(predict_sketch, sketch_outputs), [c["sketch"], session], list(sketch_outputs.values()),
        api_name="predict_sketch", trigger_mode="always_last", show_progress="hidden", queue=False,
    )  # fmt: skip
    c["own image"].change(
        by_name(predict_image, sketch_outputs), [c["own image"], session], list(sketch_outputs.values()),
        api_name="predict_image", trigger_mode="always_last", show_progress="hidden",
    )  # fmt: skip
    setup["run.dataset"].change(sketch_shown, [setup["run.dataset"], session], c["sketch"], api_name=False)
