"""What outlives a session's runs: the run history, reports, model files in and out, leaderboard records."""

from __future__ import annotations

import math
import sqlite3
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

from cnn_lab.core.config import ConfigError, RunConfig
from cnn_lab.core.errors import quoted
from cnn_lab.core.events import EvalEvent, ModelResult, RunFinished
from cnn_lab.engine.contenders import Contender
from cnn_lab.engine.models import build_model, summarize
from cnn_lab.inspect.confusion import score_on_test_set
from cnn_lab.runs.history import Evaluation, ModelRecord, RunRecord
from cnn_lab.runs.leaderboard import Entry, entries_of, record_of
from cnn_lab.runs.model_files import FORMATS, export_model, read_model_file
from cnn_lab.runs.report import ReportInput, render
from cnn_lab.session.datasets import Datasets
from cnn_lab.session.inspection import RESULT_IMAGES, Inspection
from cnn_lab.session.pair import IMPORTED, NAMES, Pair, SessionError, model_name
from cnn_lab.session.workspace import Workspace
from cnn_lab.views.run_view import SMOOTHING, Point, RunView


class History:
    """A session's runs in the workspace's history (on a public server, only its own), and its pair as files."""

    def __init__(self, pair: Pair, workspace: Workspace, datasets: Datasets, inspection: Inspection, owner: str):
        self.pair, self.workspace, self.datasets, self.inspection = pair, workspace, datasets, inspection
        self.owner = owner  # whose runs these are in the history of a public server
        self.leaderboard_entries: list[Entry] = []  # the class's models, from imported records

    def runs(self) -> list[RunRecord]:
        """The runs this user may see, newest first: all of them on a local server, only this session's on a public
        one."""
        if self.workspace.runs is None:
            return []
        return self.workspace.runs.runs(owner=self.owner if self.workspace.public else None)

    def forget(self, ids: list[int]) -> int:
        """Delete runs from the history (on a public server, only this session's); returns how many went."""
        if self.workspace.runs is None:
            return 0
        return self.workspace.runs.delete(ids, owner=self.owner if self.workspace.public else None)

    def record(self, finished: RunFinished, started_at: datetime, evaluations: list[EvalEvent]) -> None:
        """Keep the pair's run in the history. A history that cannot be written costs the run nothing: the log says
        so."""
        view = self.pair.view
        if self.workspace.runs is None or view.started_info is None:
            return
        summaries = self.pair.summaries
        models = {
            name: ModelRecord(
                r.status, r.test_accuracy, r.validation_accuracy, r.epochs_done, r.steps, r.images_seen,
                r.train_time_s, r.images_per_s, summaries[name].params, summaries[name].flops,
            )
            for name, r in finished.results.items()
        }  # fmt: skip
        kept = tuple(
            Evaluation(e.model, e.epoch, e.images_seen, e.test_loss, e.test_accuracy, e.validation_loss,
                       e.validation_accuracy)
            for e in evaluations
        )  # fmt: skip
        info = view.started_info
        record = RunRecord(
            self.owner, started_at.isoformat(timespec="seconds"), finished.reason, self.pair.setup(), info.data_source,
            info.device, info.precision, finished.elapsed_s, models, kept,
        )  # fmt: skip
        try:
            self.pair.recorded = self.workspace.runs.record(record)
        except sqlite3.Error as err:
            view.tell(f"This run could not be kept in the run history ({err}); the models are unaffected.")

    def write_report(self, folder: Path) -> list[Path]:
        """A report of the latest run in ``folder``: an HTML page with its figures embedded, and the same in
        Markdown."""
        pair = self.pair
        pair.at()
        if pair.view is None or pair.view.started_info is None or pair.finished.reason == IMPORTED:
            raise SessionError("Train the models first: a report describes a run.", "Train first")
        report = ReportInput(
            pair.setup(),
            pair.view.started_info,
            pair.finished,
            pair.summaries,
            self.inspection.test_set_scores(),
            {"accuracy": series(pair.view.accuracy_rows), "loss": series(pair.view.loss_points(SMOOTHING))},
            self.inspection.sample_results(count=RESULT_IMAGES, seed=0),
        )
        stem = f"cnn_lab_report_{datetime.now(timezone.utc):%Y%m%d_%H%M%S}"
        written = [folder / f"{stem}.html", folder / f"{stem}.md"]
        for path, text in zip(written, render(report), strict=True):
            path.write_text(text, encoding="utf-8")
        return written

    # ------------------------------------------------------------ model files

    def export_model(self, name: str, file_format: str, folder: Path) -> list[Path]:
        """Model ``name`` written into ``folder`` as ``file_format`` (see model_files.FORMATS); a script comes with
        the safetensors file it loads."""
        pair = self.pair.at()
        contender = pair[model_name(name)]
        if file_format not in FORMATS:
            raise ConfigError(f"format must be one of {', '.join(FORMATS)}, got {quoted(file_format)}", "format")
        stem = f"cnn_lab_model_{name}_epoch_{contender.epochs_done}"
        files = {f"{stem}{FORMATS[file_format]}": file_format}
        if file_format == "pytorch script":
            files[f"{stem}.safetensors"] = "safetensors"
        written = []
        for filename, kind in files.items():
            path = folder / filename
            path.write_bytes(export_model(contender, self.pair.data.info, kind, weights_file=f"{stem}.safetensors"))
            written.append(path)
        return written

    def import_model(self, name: str, content: bytes, filename: str = "") -> str:
        """Put the model of a cnn_lab safetensors file into slot ``name``: it reads sketches, is inspected, and
        Continue trains it on. Before any run, the other slot gets a fresh, untrained model of the same build.
        Returns a note for the page."""
        pair = self.pair
        if pair.running:
            raise SessionError("Training is in progress: press Stop first, or wait for it to end.", "Busy")
        model_name(name)
        imported = read_model_file(content, filename)
        data = self.datasets.read_by(imported)
        if pair.contenders and pair.data is not None and pair.data.info.title != data.info.title:
            raise ConfigError(
                f"model file: it reads {data.info.title} but the trained pair reads {pair.data.info.title}",
                "model file",
            )
        module = build_model(imported.spec.model)
        module.load_state_dict(imported.weights)
        contender = Contender(
            name, imported.spec, module, epochs_done=imported.epochs_done,
            checkpoint_budget_bytes=self.workspace.limits.checkpoint_bytes,
        )  # fmt: skip
        data = pair.data or data
        contender.test_accuracy = score_on_test_set({name: contender}, data).accuracy(name)
        contender.test_images = len(data.test_labels)
        pair.changed(f"model {name} imported from {filename or 'a file'}")
        if not pair.contenders or pair.finished is None:  # no pair yet: the other slot starts untrained
            other = next(n for n in NAMES if n != name)
            pair.contenders[other] = Contender.create(other, imported.spec)
            pair.data, pair.run, pair.view = data, RunConfig(dataset=data.info.key), RunView(list(NAMES))
            pair.finished = RunFinished(IMPORTED, 0.0, {other: ModelResult("untrained", 0, 0, 0.0, 0.0, None)})
        pair.contenders[name] = contender
        pair.summaries = {n: summarize(c.spec.model, c.module) for n, c in pair.contenders.items()}
        result = ModelResult(IMPORTED, 0, 0, 0.0, 0.0, contender.test_accuracy, epochs_done=imported.epochs_done)
        pair.finished = replace(pair.finished, results={**pair.finished.results, name: result})
        return (
            f"Model {name} is the one from {filename or 'the file'} ({pair.summaries[name].params:,} parameters, "
            f"{imported.epochs_done} epochs trained): {contender.test_accuracy:.2%} on the {len(data.test_labels):,} "
            "test images here. It reads sketches, is inspected, and Continue trains it on."
        )

    # ------------------------------------------------------------ leaderboard

    def leaderboard_record(self, who: str) -> dict:
        """The latest run of this session as a leaderboard record signed ``who`` (plain JSON data)."""
        recorded = self.pair.recorded
        runs = self.workspace.runs.runs(ids=[recorded]) if self.workspace.runs and recorded else []
        if not runs:
            raise SessionError("Train the models first: a record is made from a run in the history.", "Train first")
        return record_of(runs[0], who)

    def add_leaderboard_records(self, files: list[tuple[bytes, str]]) -> int:
        """Read leaderboard record files (all checked before any is added); returns how many models joined."""
        found = [entry for data, name in files for entry in entries_of(data, name)]
        new = [entry for entry in found if entry not in self.leaderboard_entries]
        self.leaderboard_entries.extend(new)
        return len(new)


def series(rows: list[Point]) -> dict[str, tuple[list[float], list[float]]]:
    """A chart's points as one (images seen, values) per series, the empty points left out."""
    found: dict[str, tuple[list[float], list[float]]] = {}
    for x, y, name, *_ in rows:
        if not math.isnan(y):
            xs, ys = found.setdefault(name, ([], []))
            xs.append(x)
            ys.append(y)
    return found
