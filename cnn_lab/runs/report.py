"""A report of the latest run, self-contained so it can be mailed or archived: HTML with its figures embedded, and
the same in Markdown.

Sections: the run (data, device, precision, time), hyperparameters of both
models, architecture (diagram and per-layer table), curves, results with
resource use, confusion matrices, example predictions and the environment.
"""

from __future__ import annotations

import base64
import html
import platform
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np
import pandas as pd
import torch

from cnn_lab.core.config import ExperimentConfig
from cnn_lab.core.events import RunFinished, RunStarted
from cnn_lab.engine.models import ModelSummary
from cnn_lab.inspect.confusion import PairScores
from cnn_lab.runs.history import code_version
from cnn_lab.views.plots import confusion_figure, curves_figure, figure_png, network_diagram
from cnn_lab.views.run_view import RESULTS_CSS, summary_frame

SECTIONS = (
    "The run",
    "Hyperparameters",
    "Architecture",
    "Curves",
    "Results and resources",
    "Confusion matrices",
    "Example predictions",
    "Environment",
)
PAGE_CSS = """
:root { --border-color-primary: #d1d5db; --body-text-color-subdued: #6b7280; }
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; color: #111827; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 14px; }
th, td { border: 1px solid #d1d5db; padding: 3px 8px; text-align: left; }
img.figure { max-width: 100%; }
"""


@dataclass(frozen=True)
class ReportInput:
    """Everything a report shows, gathered by the session from its latest run."""

    setup: ExperimentConfig
    started: RunStarted
    finished: RunFinished
    summaries: dict[str, ModelSummary]
    scores: PairScores
    curves: dict[str, dict[str, tuple[list[float], list[float]]]]  # "accuracy"/"loss" -> series -> (x, y)
    examples_html: str  # the results grid of a few test images


def png_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def setup_frame(setup: ExperimentConfig) -> pd.DataFrame:
    """Both models' training settings side by side, and the run's shared ones."""
    a, b = setup.a.train.to_dict(), setup.b.train.to_dict()
    rows = [[key, str(a.get(key, "")), str(b.get(key, ""))] for key in dict.fromkeys([*a, *b])]
    rows += [[f"run: {key}", str(value), str(value)] for key, value in setup.run.to_dict().items()]
    return pd.DataFrame(rows, columns=["setting", "Model A", "Model B"])


def layers_frame(summaries: dict[str, ModelSummary]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            [name, row.name, "x".join(map(str, row.output_shape)), f"{row.params:,}", f"{row.flops:,}"]
            for name, summary in summaries.items()
            for row in summary.layers
        ],
        columns=["model", "layer", "output", "params", "FLOPs"],
    )


def environment_frame(started: RunStarted) -> pd.DataFrame:
    facts = {
        "cnn_lab": code_version(),
        "PyTorch": torch.__version__,
        "Python": platform.python_version(),
        "platform": platform.platform(),
        "device": started.device,
        "precision": started.precision,
        "written": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    return pd.DataFrame(list(facts.items()), columns=["", "value"])


def figures(report: ReportInput) -> dict[str, str]:
    """Each figure of the report as a PNG data URI."""
    configs = {name: spec.model for name, spec in zip(("A", "B"), (report.setup.a, report.setup.b), strict=True)}
    matrices = {name: report.scores.confusion(name) for name in report.scores.guesses}
    return {
        "architecture": png_uri(figure_png(network_diagram(configs))),
        "accuracy": png_uri(figure_png(curves_figure(report.curves["accuracy"], "images seen", "accuracy (%)"))),
        "loss": png_uri(figure_png(curves_figure(report.curves["loss"], "images seen", "training loss"))),
        "confusion": png_uri(figure_png(confusion_figure(matrices, report.scores.class_names))),
    }


def run_words(report: ReportInput) -> str:
    started, finished = report.started, report.finished
    accuracies = ", ".join(
        f"model {name} {r.test_accuracy:.2%}" for name, r in finished.results.items() if r.test_accuracy is not None
    )
    return (
        f"A/B run on {started.data_source}, {started.train_size:,} training images; {started.device}, "
        f"{started.precision}; {finished.reason} after {finished.elapsed_s:.1f} s. Test accuracy: {accuracies}."
    )


def tables(report: ReportInput) -> dict[str, pd.DataFrame]:
    return {
        "hyperparameters": setup_frame(report.setup),
        "layers": layers_frame(report.summaries),
        "results": summary_frame(report.finished.results, report.summaries),
        "environment": environment_frame(report.started),
    }


def render(report: ReportInput) -> tuple[str, str]:
    """The report as one HTML page and as Markdown; its figures and tables drawn once for both."""
    shown, frames = figures(report), tables(report)
    return html_report(report, shown, frames), markdown_report(report, shown, frames)


def html_report(report: ReportInput, shown: dict[str, str], frames: dict[str, pd.DataFrame]) -> str:
    """The report as one HTML page with every figure (``shown``: PNG data URIs) embedded."""

    def table(key: str) -> str:
        return frames[key].to_html(index=False, border=0, escape=True)

    def image(key: str, alt: str) -> str:
        return f'<img class="figure" src="{shown[key]}" alt="{html.escape(alt)}">'

    bodies = {
        "The run": f"<p>{html.escape(run_words(report))}</p>",
        "Hyperparameters": table("hyperparameters"),
        "Architecture": image("architecture", "both networks, layer by layer") + table("layers"),
        "Curves": image("accuracy", "accuracy curves") + image("loss", "training loss curves"),
        "Results and resources": table("results"),
        "Confusion matrices": image("confusion", "confusion matrices of both models"),
        "Example predictions": report.examples_html,
        "Environment": table("environment"),
    }
    sections = "\n".join(f"<section><h2>{title}</h2>\n{bodies[title]}</section>" for title in SECTIONS)
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>cnn_lab run report</title>'
        f"<style>{PAGE_CSS}{RESULTS_CSS}</style></head>\n"
        f"<body><h1>cnn_lab run report</h1>\n{sections}\n</body></html>\n"
    )


def markdown_report(report: ReportInput, shown: dict[str, str], frames: dict[str, pd.DataFrame]) -> str:
    """The same report in Markdown, figures as embedded images (the example grid as a table of guesses)."""
    scores = report.scores
    names = scores.class_names
    examples = pd.DataFrame(
        [
            [
                names[scores.labels[i]],
                *(f"{names[scores.guesses[m][i]]} ({scores.confidences[m][i]:.0%})" for m in scores.guesses),
            ]
            for i in np.arange(min(20, scores.size))
        ],
        columns=["true", *(f"Model {m}" for m in scores.guesses)],
    )
    bodies = {
        "The run": run_words(report),
        "Hyperparameters": frames["hyperparameters"].to_markdown(index=False),
        "Architecture": f"![both networks]({shown['architecture']})\n\n{frames['layers'].to_markdown(index=False)}",
        "Curves": f"![accuracy curves]({shown['accuracy']})\n\n![training loss curves]({shown['loss']})",
        "Results and resources": frames["results"].to_markdown(index=False),
        "Confusion matrices": f"![confusion matrices]({shown['confusion']})",
        "Example predictions": "The first test images:\n\n" + examples.to_markdown(index=False),
        "Environment": frames["environment"].to_markdown(index=False),
    }
    return "# cnn_lab run report\n\n" + "\n\n".join(f"## {title}\n\n{bodies[title]}" for title in SECTIONS) + "\n"
