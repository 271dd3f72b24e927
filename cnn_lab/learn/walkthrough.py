"""Start here: a first comparison in five steps, each ticked from what the session has done (so it can be left at
any point and picked up again), with what to watch and what the result means."""

from __future__ import annotations

from dataclasses import dataclass

from cnn_lab.core.config import ExperimentConfig
from cnn_lab.core.presets import DEFAULT_TRAIN_IMAGES, default_experiment

FIRST_IMAGES = DEFAULT_TRAIN_IMAGES  # the page's first run: the number the Train tab's first screen names too


@dataclass(frozen=True)
class Step:
    title: str
    todo: str
    watch: str


STEPS = (
    Step(
        "Set up a first comparison",
        "Press **Set up my first comparison** below: model A learns with Adam, model B is the same model learning "
        "with SGD; both see the same images in the same order. Train Models then trains {first_run}.",
        "Both columns of *Train & compare* now show the settings; nothing else differs between A and B.",
    ),
    Step(
        "Train both and watch",
        "Press **Train Models** in *Train & compare*.",
        "The loss curves should fall steeply, then level off; the accuracy curve climbs. The progress lines count "
        "steps; the coach under them speaks up if something goes wrong.",
    ),
    Step(
        "Read the result",
        "Look at *Side by side* and the 20 test images below it.",
        "Test accuracy is measured on images neither model trained on. Green badges are right, red wrong.",
    ),
    Step(
        "Draw a digit",
        "Draw one digit on the sketchpad beside the results (pick the brush first), big and centred.",
        "Both models' confidence bars update after every stroke; try a sloppy 4 or 9 and see them disagree.",
    ),
    Step(
        "Look inside",
        "Open *Inspect*, press **Score both models on the test set**, then **Explain**.",
        "Which digits each model confuses, and where in your drawing each one looked.",
    ),
)


def first_comparison() -> ExperimentConfig:
    """Step 1's setup: the page's default pair, as the Train tab shows it on first load."""
    return default_experiment()


@dataclass(frozen=True)
class Facts:
    """What the session has done, as the walkthrough needs to know it."""

    set_up: bool  # step 1 was pressed (or a run was trained anyway)
    trained: bool
    accuracies: dict[str, float] | None  # test accuracy per model of the latest run
    drew: bool
    inspected: bool
    first_run: str = ""  # what Train Models does with step 1's setup here (Training.plan_words), in its numbers


def done(facts: Facts) -> list[bool]:
    return [facts.set_up or facts.trained, facts.trained, facts.accuracies is not None, facts.drew, facts.inspected]


def result_words(accuracies: dict[str, float]) -> str:
    """What the first result means, from its numbers."""
    a, b = accuracies["A"], accuracies["B"]
    leader, other = ("A", "B") if a >= b else ("B", "A")
    gap = 100 * abs(a - b)
    return (
        f"Model {leader} reached {accuracies[leader]:.2%}, model {other} {accuracies[other]:.2%}: a gap of "
        f"{gap:.2f} points. "
        + (
            "Adam usually gets there faster than plain SGD in one short epoch; more epochs narrow the gap."
            if leader == "A"
            else "SGD won this time: try another seed to see if it holds."
        )
    )


def walkthrough_markdown(facts: Facts) -> str:
    """The steps with ticks, the next one spelled out (what to do, what to watch)."""
    ticks = done(facts)
    upcoming = next((k for k, tick in enumerate(ticks) if not tick), None)
    lines = []
    for k, (step, tick) in enumerate(zip(STEPS, ticks, strict=True)):
        mark = "✓" if tick else "→" if k == upcoming else "·"
        lines.append(f"{k + 1}. {mark} **{step.title}**")
        if k == upcoming:
            first_run = facts.first_run or f"both models on {FIRST_IMAGES:,} MNIST training images, 1 epoch"
            lines.append(f"   {step.todo.format(first_run=first_run)} *{step.watch}*")
        if k == 2 and facts.accuracies is not None:
            lines.append(f"   {result_words(facts.accuracies)}")
    if upcoming is None:
        lines.append("\nAll done. Next: a *guided experiment* below changes one thing at a time.")
    return "\n".join(lines)
