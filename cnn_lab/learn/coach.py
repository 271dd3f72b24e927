"""The training coach: what a run's curves show, in plain words, each remark naming the troubleshooting entry to
read. It reads the page's view of the run (RunView) while the run goes on and after it ends; it trains nothing.

The signals: the learning watch's alerts (not learning, a loss that grew), a failed model, training and held-out
accuracy parting (overfitting), both low and together (underfitting), a loss that stopped falling (plateau), and
Inspect's gradient health (vanishing or exploding gradients, dead ReLUs).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from cnn_lab.engine.gradient_flow import gradient_health
from cnn_lab.learn.troubleshooting import TROUBLES
from cnn_lab.views.run_view import SMOOTHING, Point, RunView

OVERFIT_GAP_PP = 3.0  # training accuracy this far above the held-out accuracy: the curves have parted
UNDERFIT_ACCURACY = 90.0  # training accuracy (%) below this at the end, held-out close to it: underfit
UNDERFIT_GAP_PP = 2.0
PLATEAU_POINTS = 60  # loss points needed before a plateau can be judged
PLATEAU_GAIN = 0.01  # the last fifth of the loss curve fell less than 1 % below the fifth before it
PLATEAU_LOSS = 0.3  # ... while still this high: a low loss that flattens has converged, not stalled


@dataclass(frozen=True)
class Remark:
    model: str
    text: str
    trouble: str  # the slug of its troubleshooting entry

    def markdown(self) -> str:
        return f"- **Model {self.model}**: {self.text} (*Learn → When training goes wrong → {TROUBLES[self.trouble].symptom}*)"


SMALL_SET = 20_000  # fewer training images than one epoch of the page's default MNIST run sees
FEW_EPOCHS = 4


def _series(view: RunView, rows: list[Point], name: str) -> list[float]:
    return [row.value for row in rows if row.series == name and not math.isnan(row.value)]


def _held_out(view: RunView, model: str) -> tuple[str, list[float]]:
    validation = _series(view, view.accuracy_rows, f"{model} validation")
    return ("validation", validation) if validation else ("test", _series(view, view.accuracy_rows, f"{model} test"))


def remarks(view: RunView) -> list[Remark]:
    """What the run so far shows about each model (nothing: it looks healthy, or it is too early to say)."""
    found = []
    results = view.finished.results if view.finished else {}
    for model in view.names:
        losses = _series(view, view.loss_points(SMOOTHING), model)  # as the progress line smooths it
        grew = bool(losses) and losses[-1] >= 4 * min(losses) and losses[-1] > 0.5
        verdict = results[model].not_learning if model in results else None
        if model in view.not_learning or verdict:  # the learning watch's verdict: the results table says the same
            alert = verdict or view.not_learning[model].message
            trouble = "diverging" if "has grown" in alert or grew else "stuck-at-chance"
            found.append(Remark(model, alert.removeprefix(f"Model {model} "), trouble))
            continue
        if model in results and results[model].status == "failed":
            to = f" (to {losses[-1]:.3g})" if losses and losses[-1] > 100 else ""
            found.append(
                Remark(model, f"its loss grew without bound{to} and training stopped: it diverged.", "loss-is-nan")
            )
            continue
        if grew:
            found.append(
                Remark(model, f"its loss fell to {min(losses):.2f}, then rose to {losses[-1]:.2f}.", "diverging")
            )
        train = _series(view, view.accuracy_rows, f"{model} train")
        kind, held = _held_out(view, model)
        if train and held:
            gap = train[-1] - held[-1]
            if gap > OVERFIT_GAP_PP and len(held) >= 2:
                found.append(
                    Remark(
                        model,
                        f"training accuracy {train[-1]:.1f} % is {gap:.1f} points above {kind} accuracy "
                        f"{held[-1]:.1f} %: it fits its training images better than new ones (overfitting).",
                        "overfitting",
                    )
                )
            elif model in results and train[-1] < UNDERFIT_ACCURACY and abs(gap) < UNDERFIT_GAP_PP:
                found.append(
                    Remark(
                        model,
                        f"training and {kind} accuracy are both low and close ({train[-1]:.1f} % and {held[-1]:.1f} "
                        "%): it has not learnt what it could (underfitting).",
                        "underfitting",
                    )
                )
        if len(losses) >= PLATEAU_POINTS and not any(r.model == model for r in found):
            fifth = len(losses) // 5
            before, last = sum(losses[-2 * fifth : -fifth]) / fifth, sum(losses[-fifth:]) / fifth
            if last > before * (1 - PLATEAU_GAIN) and last > PLATEAU_LOSS:
                found.append(
                    Remark(
                        model,
                        f"its loss stopped falling ({before:.3f} then {last:.3f} over the last fifths of the run).",
                        "plateau",
                    )
                )
        for line in gradient_health(view.gradients[model]):
            trouble = "vanishing-gradients" if "vanish" in line else "dead-relus" if "dead" in line else "diverging"
            found.append(Remark(model, line.removeprefix(f"Model {model}: "), trouble))
    return found


def coach_text(view: RunView | None) -> str:
    """The coach's words for the page."""
    if view is None or view.started_info is None:
        return ""
    found = remarks(view)
    if found:
        return "**Coach:**\n" + "\n".join(r.markdown() for r in found) + more_accuracy(view)
    if view.finished is None:
        return "**Coach:** nothing unusual in the curves so far."
    return (
        "**Coach:** both models learnt as expected: no stall, no divergence, no overfitting, no plateau in sight."
        + more_accuracy(view)
    )


def more_accuracy(view: RunView) -> str:
    """After a run on part of the training images, or a few epochs of a small set, how to get more out of the same
    models."""
    info = view.started_info
    if view.finished is None or not info.train_available:
        return ""
    if info.train_size >= info.train_available:
        return _few_epochs_of_a_small_set(view)
    return (
        f"\n\n**More accuracy:** these models trained on {info.train_size:,} of the {info.train_available:,} "
        "training images. Set *Training images* to 0 (all of them) and train again, or add epochs: *Continue "
        "training* below trains these on from where they are."
    )


def _few_epochs_of_a_small_set(view: RunView) -> str:
    """A set of a few thousand images seen once or twice: the models have room to learn more from it."""
    size = view.started_info.train_size
    seen = max((r.images_seen for r in view.finished.results.values()), default=0)
    if not size or size >= SMALL_SET or seen >= FEW_EPOCHS * size:
        return ""
    times = round(seen / size)
    return (
        f"\n\n**More accuracy:** the models saw the {size:,} training images {'once' if times <= 1 else f'{times} times'}"
        ". On a set this small, more epochs with augmentation pay: *Epochs* 10 and *Augment* rotate, shift and scale "
        "took the page's default pair on Quick, Draw!'s 7,488 sketches from 81 % and 71 % to 89 % and 86 % test "
        "accuracy (12 s and 6 s of training on 2 cores; benchmarks/quickdraw_reading.py)."
    )
