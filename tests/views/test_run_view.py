import csv
import io
import math
from dataclasses import replace

import pytest

from cnn_lab.core.config import ConfigError, default_model
from cnn_lab.core.events import (
    BestEpochRestored,
    CoresShared,
    CrossValidationFinished,
    EvalEvent,
    FoldFinished,
    ModelFailed,
    ModelResult,
    RunFinished,
    RunStarted,
    Scoring,
    StepEvent,
)
from cnn_lab.engine.models import summarize
from cnn_lab.views.run_view import (
    TRAIN_WINDOW_STEPS,
    X_AXES,
    ChartOptions,
    CrossValidationView,
    RunView,
    duration_text,
    smoothed,
    summary_frame,
)


def step(model, n, total=10, loss=1.0, accuracy=0.5):
    return StepEvent(model, 1, n, total, loss, accuracy, 0.001, 100.0, n * 10)


def test_progress_line_is_tqdm_style_and_advances():
    view = RunView(["A", "B"])
    view.add(RunStarted("CPU (2 threads)", "bf16", "MNIST", 100, {"A": 10, "B": 10}))
    view.add(step("A", 4, loss=0.5))
    line = view.progress_line("A")
    assert line.startswith("Model A:  40%|████") and "4/10" in line and "loss=0.500" in line
    assert "0/10" in view.progress_line("B")


def test_a_continued_run_has_no_time_left_until_its_first_step():
    """Continuing starts each bar again at step 0 while the last run's step is still known: no pace yet, so "?"."""
    view = RunView(["A"])
    view.add(RunStarted("CPU", "fp32", "MNIST", 100, {"A": 10}, test_size=300))
    view.add(step("A", 10, total=10))
    view.add(RunStarted("CPU", "fp32", "MNIST", 100, {"A": 10}, test_size=300))
    assert view.seconds_left("A", 1.0) is None and "0/10" in view.progress_line("A")


def test_time_left_counts_the_test_scorings_still_to_come_not_only_the_steps():
    """Two epochs of 10 steps of 10 images, 300 test images: each epoch end scores them, about 300 / 3 / 10 = 10 steps'
    worth. A step count alone would say 0 s left while the last scoring runs."""
    view = RunView(["A"])
    view.add(RunStarted("CPU", "fp32", "MNIST", 100, {"A": 20}, test_size=300))
    for n in range(1, 6):
        view.add(step("A", n, total=20))
    assert view.seconds_left("A", 5.0) == pytest.approx(15 + 2 * 10)  # a second a step, two scorings to come
    for n in range(6, 21):
        view.add(step("A", n, total=20))
    assert view.seconds_left("A", 20.0) == pytest.approx(10)  # the last step is done; its scoring is not
    view.add(EvalEvent("A", 2, 20, 0.3, 0.95, (0.9,) * 10, 1.0, test_images=300))
    assert view.seconds_left("A", 20.0) == 0


def test_every_series_is_declared_before_its_first_point():
    view = RunView(["A", "B"])
    assert set(view.loss_frame()["model"]) == {"A", "B"} and view.loss_frame()["loss"].isna().all()
    assert set(view.accuracy_frame()["curve"]) == {"A train", "A test", "B train", "B test"}
    view.add(step("A", 1))
    assert len(view.loss_frame()) == 3 and view.loss_frame()["x"].dtype == "float64"


def test_accuracy_axis_fits_every_point_of_the_curves_shown():
    view = RunView(["A", "B"])
    assert view.accuracy_floor() == 90
    view.add(EvalEvent("A", 1, 10, 0.3, 0.95, (0.9,) * 10, 1.0))
    view.add(EvalEvent("B", 1, 10, 0.9, 0.768, (0.7,) * 10, 1.0))
    assert view.accuracy_floor() == 70  # B is at 76.8%: keep it in view
    view.add(EvalEvent("B", 2, 20, 0.2, 0.93, (0.9,) * 10, 2.0))
    assert view.accuracy_floor() == 70  # B's first point is still drawn: it stays in view
    view.add(step("A", 1, accuracy=0.05))  # a train point far below (chance level early on) stays in view too
    assert view.accuracy_floor() == 0
    assert view.accuracy_floor(frozenset({"A train", "B train", "B test"})) == 90  # zoomed on A's test points


def test_train_curve_is_the_latest_batches_accuracy_not_the_epochs_running_average():
    view = RunView(["A"])
    steps = 40
    view.add(RunStarted("CPU", "fp32", "MNIST", 40 * 64, {"A": steps}))
    for n in range(1, steps + 1):  # batches from 0 % up to 97.5 %: the running average would end at 48.75 %
        view.add(replace(step("A", n, total=steps, accuracy=0.1), batch_accuracy=(n - 1) / steps))
    drawn = view.accuracy_frame().dropna()
    train = drawn[drawn["curve"] == "A train"]["accuracy"].tolist()
    assert train[0] == 0.0 and train[1] == pytest.approx(1.25)  # the window fills from the run's start
    last = [(n - 1) / steps * 100 for n in range(steps - TRAIN_WINDOW_STEPS + 1, steps + 1)]
    assert train[-1] == pytest.approx(sum(last) / len(last))  # the latest TRAIN_WINDOW_STEPS batches, no older


def test_log_lists_the_newest_line_first():
    view = RunView(["A"])
    view.add(EvalEvent("A", 1, 10, 0.3, 0.95, (0.9,) * 10, 1.0))
    result = ModelResult("finished", 10, 100, 1.0, 100.0, 0.95)
    view.add(RunFinished("finished", 1.0, {"A": result}))
    assert (
        view.log_text("A")
        .splitlines()[0]
        .endswith("finished after 10 steps in 1.0 s (100 images/s), test accuracy 95.00%")
    )


def test_summary_frame_has_one_column_per_model():
    result = ModelResult("stopped", 10, 640, 2.0, 320.0, None)
    frame = summary_frame({"A": result}, {"A": summarize(default_model())})
    assert list(frame.columns) == ["", "Model A"]
    assert dict(zip(frame[""], frame["Model A"]))["test accuracy"] == "not evaluated"


def test_validation_curves_and_an_early_stop_line_are_drawn_where_they_happened():
    view = RunView(["A", "B"], validation=True, early_stopping=("A",))
    view.add(RunStarted("CPU (2 threads)", "bf16", "MNIST", 100, {"A": 10, "B": 10}))
    assert {"A validation", "B validation", "A early stop"} <= set(view.accuracy_frame()["curve"])
    assert "B early stop" not in set(view.accuracy_frame()["curve"])
    view.add(EvalEvent("A", 1, 10, 0.3, 0.95, (0.95,) * 10, 1.0, 0.25, 0.96, images_seen=640))
    view.add(EvalEvent("B", 1, 10, 0.3, 0.93, (0.93,) * 10, 1.0, 0.28, 0.94, images_seen=640))
    view.add(BestEpochRestored("A", 4, 2, 2560, "Model A stopped early after epoch 4: ...", True))
    frame = view.accuracy_frame()
    assert frame[frame.curve == "A validation"].dropna()[["x", "accuracy"]].values.tolist() == [[640, 96.0]]
    stop = frame[frame.curve == "A early stop"].dropna()
    assert stop["x"].tolist() == [2560, 2560] and stop["accuracy"].tolist() == [
        90.0,
        100.0,
    ]  # across the visible range
    assert "validation accuracy 96.00%" in view.log_text("A") and view.log_text("A").splitlines()[0].endswith(
        "stopped early after epoch 4: ..."
    )
    assert "· A stopped early after epoch 4, epoch 2 kept (see its log) ·" in view.status_text()
    view.add(
        RunStarted("CPU (2 threads)", "bf16", "MNIST", 100, {"A": 10, "B": 10})
    )  # continued: the line stays, the note goes
    assert (
        "stopped early" not in view.status_text()
        and len(view.accuracy_frame().query("curve == 'A early stop'").dropna()) == 2
    )


def test_each_model_has_its_own_learning_rate_curve():
    view = RunView(["A", "B"])
    view.add(step("A", 1))
    frame = view.learning_rate_frame("A")
    assert frame.dropna()["learning rate"].tolist() == [0.001] and set(frame["model"]) == {"A"}
    assert view.learning_rate_frame("B").dropna().empty


def test_cross_validation_view_reports_folds_and_the_spread():
    view = CrossValidationView("Model A, 3-fold cross-validation", 3)
    view.add(step("CV", 4))
    assert view.note() == "Model A, 3-fold cross-validation: fold 1 of 3, epoch 1, step 4/10"
    view.add(FoldFinished(1, 3, 0.31, 0.9, 1.5))
    view.add(FoldFinished(2, 3, 0.21, 0.94, 1.4))
    view.add(CrossValidationFinished("stopped", (0.9, 0.94), 3.2))
    assert view.frame().values.tolist() == [
        ["1 of 3", "90.00%", "0.3100", "1.5 s"],
        ["2 of 3", "94.00%", "0.2100", "1.4 s"],
    ]
    assert view.note().endswith(
        "stopped after 2 of 3 folds in 3 s; mean validation accuracy **92.00%** ± 2.83% (sample std over folds)."
    )


def test_a_roll_back_cuts_the_curves_where_the_model_now_is():
    view = RunView(["A", "B"], early_stopping=("A",))
    for n in range(1, 11):
        view.add(step("A", n))
        view.add(step("B", n))
    view.add(BestEpochRestored("A", 2, 1, 100, "stopped early", True))
    view.truncate("A", 50)
    assert view.loss_frame().query("model == 'A'").dropna()["x"].max() == 50
    assert view.loss_frame().query("model == 'B'").dropna()["x"].max() == 100  # B untouched
    assert view.accuracy_frame().query("curve == 'A early stop'").dropna().empty
    assert len(view.loss_frame().query("model == 'A'")) == 6  # its legend marker stays


def test_a_failed_fold_is_named_with_its_reason():
    view = CrossValidationView("Model B, 2-fold cross-validation", 2)
    view.add(ModelFailed("CV", 3, "Model CV: the loss became nan at step 3"))
    view.add(CrossValidationFinished("failed", (), 1.0))
    assert view.note().endswith("fold 1 failed (Model CV: the loss became nan at step 3) in 1 s; no fold finished.")


def test_the_status_shows_this_runs_own_time_and_stops_counting_at_its_end(monkeypatch):
    now = [100.0]
    monkeypatch.setattr("cnn_lab.views.run_view.time.perf_counter", lambda: now[0])
    view = RunView(["A"])
    started = RunStarted("CPU (2 threads)", "bf16", "MNIST", 100, {"A": 10})
    view.add(started)
    now[0] = 130.0
    view.add(RunFinished("finished", 29.5, {"A": ModelResult("finished", 10, 100, 29.0, 3.4, 0.9)}))
    now[0] = 200.0  # the page redrawn much later
    assert view.status_text().endswith("· 29.5 s")
    view.add(started)  # Continue training
    now[0] = 202.5
    assert view.status_text().endswith("· 2.5 s")  # not counted from the first run's start


def test_a_model_left_unscored_after_a_stop_says_so_in_its_log():
    view = RunView(["A"])
    result = ModelResult("stopped", 30, 300, 3.0, 100.0, 0.8, unscored_steps=12)
    view.add(RunFinished("stopped", 3.0, {"A": result}))
    assert "test accuracy 80.00% (as of 12 steps before the stop" in view.log_text("A")


def test_durations_read_as_a_person_says_them():
    said = [duration_text(s) for s in (45, 1000, 5400, 7300, 60_000, 350_000, 864_000)]
    assert said == ["45 s", "16.7 min", "1 h 30 min", "2 h", "16 h 40 min", "4 days 1 h", "10 days"]


def timed_step(model, n, run_time, total=10, loss=1.0, images_before=0):
    return StepEvent(model, 1, n, total, loss, 0.5, 0.001, 100.0, images_before + n * 10, run_time)


def test_curves_can_be_drawn_against_images_steps_epochs_or_seconds_across_a_continued_run():
    view = RunView(["A"])
    view.add(RunStarted("CPU", "fp32", "MNIST", 50, {"A": 5}))  # 50 images an epoch, 10 a step
    for n in range(1, 6):
        view.add(timed_step("A", n, run_time=0.5 * n))
    view.add(RunStarted("CPU", "fp32", "MNIST", 50, {"A": 5}))  # Continue training: steps and seconds go on
    for n in range(1, 6):
        view.add(timed_step("A", n, run_time=0.25 * n, images_before=50))
    frames = {axis: view.loss_frame(ChartOptions(x_axis=axis)).dropna()["x"].tolist() for axis in X_AXES}
    assert frames["images"] == list(range(10, 101, 10))
    assert frames["steps"] == list(range(1, 11))
    assert frames["epochs"] == pytest.approx([n / 5 for n in range(1, 11)])
    assert frames["seconds"] == pytest.approx([0.5, 1, 1.5, 2, 2.5, 2.75, 3, 3.25, 3.5, 3.75])
    assert view.accuracy_frame(ChartOptions(x_axis="steps")).dropna()["x"].max() == 10


def test_a_roll_back_puts_the_steps_and_seconds_back_where_the_model_was():
    view = RunView(["A"])
    view.add(RunStarted("CPU", "fp32", "MNIST", 50, {"A": 10}))
    for n in range(1, 11):
        view.add(timed_step("A", n, run_time=float(n)))
    view.truncate("A", 50)  # back to step 5, 5 s in
    view.add(RunStarted("CPU", "fp32", "MNIST", 50, {"A": 1}))
    view.add(timed_step("A", 1, run_time=2.0, total=1, images_before=50))
    last = view.loss_frame(ChartOptions(x_axis="steps")).dropna().iloc[-1]
    assert last["x"] == 6 and view.loss_frame(ChartOptions(x_axis="seconds")).dropna()["x"].iloc[-1] == 7.0


def test_smoothing_is_a_debiased_moving_average_and_zero_draws_the_raw_loss():
    assert smoothed([4.0, 2.0, math.nan, 2.0], 0.5) == pytest.approx([4.0, 8 / 3 * 1.0, math.nan, 16 / 7], nan_ok=True)
    view = RunView(["A"])
    view.add(RunStarted("CPU", "fp32", "MNIST", 50, {"A": 4}))
    for n, loss in enumerate([4.0, 2.0, 1.0, 1.0], start=1):
        view.add(timed_step("A", n, run_time=n, total=4, loss=loss))
    raw = view.loss_frame(ChartOptions(smoothing=0)).dropna()["loss"].tolist()
    assert raw == [4.0, 2.0, 1.0, 1.0]
    heavy = view.loss_frame(ChartOptions(smoothing=0.9)).dropna()["loss"].tolist()
    assert heavy[0] == 4.0 and heavy[-1] > 1.5  # slower to follow the fall
    logged = view.loss_frame(ChartOptions(smoothing=0, log_loss=True)).dropna()["loss"].tolist()
    assert logged == pytest.approx([math.log10(4), math.log10(2), 0, 0])


def test_a_point_is_the_mean_loss_of_every_step_since_the_last_point():
    view = RunView(["A"])
    view.add(RunStarted("CPU", "fp32", "MNIST", 6000, {"A": 600}))  # 600 steps: a point every 2 steps
    for n in range(1, 601):
        view.add(timed_step("A", n, run_time=n, total=600, loss=1.0 if n % 2 else 3.0))
    assert set(view.loss_frame(ChartOptions(smoothing=0)).dropna()["loss"]) == {2.0}


def test_hidden_curves_keep_their_legend_entry_but_no_points():
    view = RunView(["A", "B"])
    view.add(RunStarted("CPU", "fp32", "MNIST", 50, {"A": 5, "B": 5}))
    for n in range(1, 6):
        view.add(timed_step("A", n, n))
        view.add(timed_step("B", n, n))
    options = ChartOptions(hidden=frozenset({"B loss", "A train"}))
    loss = view.loss_frame(options)
    assert loss.dropna()["model"].unique().tolist() == ["A"] and "B" in set(loss["model"])
    accuracy = view.accuracy_frame(options)
    assert "A train" not in set(accuracy.dropna()["curve"]) and "B train" in set(accuracy.dropna()["curve"])


def test_the_chart_data_downloads_as_csv_with_every_axis():
    view = RunView(["A"])
    view.add(RunStarted("CPU", "fp32", "MNIST", 50, {"A": 2}))
    view.add(timed_step("A", 1, 0.5, total=2, loss=2.0))
    view.add(timed_step("A", 2, 1.0, total=2, loss=1.0))
    view.add(EvalEvent("A", 1, 2, 0.3, 0.95, (0.95,) * 10, 1.0, images_seen=20))
    rows = list(csv.DictReader(io.StringIO(view.chart_csv(ChartOptions(smoothing=0.5)))))
    assert [r["chart"] for r in rows] == [
        "loss",
        "loss",
        "accuracy %",
        "accuracy %",
        "accuracy %",
        "learning rate",
        "learning rate",
    ]
    assert rows[1] == {
        "chart": "loss", "curve": "A", "images": "20", "steps": "2", "epochs": "0.4", "seconds": "1",
        "value": "1", "smoothed": "1.33333",
    }  # fmt: skip
    assert rows[4]["curve"] == "A test" and rows[4]["value"] == "95"


@pytest.mark.parametrize(
    "fields, field",
    [({"x_axis": "minutes"}, "x axis"), ({"smoothing": 1.0}, "smoothing"), ({"smoothing": "a lot"}, "smoothing")],
)
def test_chart_options_refuse_what_no_control_sends_by_name(fields, field):
    with pytest.raises(ConfigError) as refused:
        ChartOptions(**fields)
    assert refused.value.field == field


def test_flops_read_at_a_glance_even_for_a_linear_model():
    from cnn_lab.views.run_view import flops_text

    assert flops_text(7_850) == "7,850"  # an empty layer list (a linear classifier) once showed "0.0 M"
    assert flops_text(1_234_567) == "1.2 M"


def test_the_log_says_when_a_score_is_of_part_of_the_test_split():
    view = RunView(["A"])
    view.add(RunStarted("CPU", "fp32", "MNIST", 100, {"A": 10}, test_size=10_000))
    view.add(EvalEvent("A", 1, 5, 0.3, 0.95, (0.9,) * 10, 1.0, test_images=2_000))
    assert "test accuracy 95.00% (on 2,000 of the 10,000 test images)" in view.log_text("A")
    view.add(EvalEvent("A", 1, 10, 0.2, 0.97, (0.9,) * 10, 2.0, test_images=10_000))
    assert view.log_text("A").splitlines()[0].endswith("test accuracy 97.00%, test loss 0.2000")


def test_a_run_that_waited_for_its_turns_on_the_cores_says_so_in_both_logs():
    view = RunView(["A", "B"])
    view.add(CoresShared(3.2))
    for name in "AB":
        assert "took turns on the CPU's cores with other runs: waited 3.2 s in all" in view.log_text(name)


def test_the_status_says_while_a_whole_test_split_is_scored_and_stops_saying_it_after():
    view = RunView(["A", "B"])
    view.add(RunStarted("CPU (2 threads)", "fp32", "MNIST", 100, {"A": 10, "B": 10}, 0, 10, 1000, 10_000))
    view.add(Scoring("A", 10_000))
    assert "scoring model A on all 10,000 test images..." in view.status_text()
    view.add(EvalEvent("A", 1, 10, 0.1, 0.97, (), 1.0, None, None, 1000, 10_000))
    assert "scoring" not in view.status_text()
