"""`cnn-lab train SETUP.json`: the setup the page exported, trained in a terminal on the same engine and session.

The run goes where a page's run goes (the run history), and its folder gets what the page offers for download: the
report (HTML and Markdown), each model as safetensors and ONNX, and the setup as trained. Under torchrun every
process trains its share (see distributed.py) and the first alone prints progress and writes. Ctrl-C stops the run
after the current batch (every process of a group at the same step) and it is still kept and written.
"""

from __future__ import annotations

import json
import signal
from datetime import datetime, timezone
from pathlib import Path

from tqdm import tqdm

from cnn_lab.core.config import ConfigError, ExperimentConfig
from cnn_lab.core.events import EvalEvent, RunStarted
from cnn_lab.data.datasets import DataError
from cnn_lab.engine.distributed import Group
from cnn_lab.engine.limits import ServerLimits
from cnn_lab.runs.history import open_history
from cnn_lab.session import NAMES, Session, SessionError, Workspace

MODEL_FORMATS = ("safetensors", "onnx")
ALONE = Group()  # a run of one process


class TerminalProgress:
    """A tqdm bar per model, fed from the session's view of the run, and a line per evaluation."""

    def __init__(self, session: Session, shown: bool = True):
        self.session, self.shown = session, shown
        self.bars: dict[str, tqdm] = {}

    def show(self, event: object) -> None:
        if not self.shown:
            return
        view = self.session.pair.view
        if isinstance(event, RunStarted):
            self.close()
            self.bars = {
                name: tqdm(total=total, desc=f"Model {name}", unit="step", position=i, leave=True, dynamic_ncols=True)
                for i, (name, total) in enumerate(event.total_steps.items())
            }
        elif isinstance(event, EvalEvent):
            tqdm.write(
                f"Model {event.model} · epoch {event.epoch} · step {event.step} · "
                f"test accuracy {event.test_accuracy:.2%}"
                + (f" · validation {event.validation_accuracy:.2%}" if event.validation_accuracy is not None else "")
            )
        for name, bar in self.bars.items():
            trace = view.traces[name]
            bar.n = trace.step
            if trace.loss_ema is not None:
                bar.set_postfix(loss=f"{trace.loss_ema:.3f}", refresh=False)
            bar.refresh()

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()
        self.bars = {}


def train_in_terminal(
    setup: ExperimentConfig,
    out: Path | None,
    data_dir: str | None = None,
    runs_db: str | None = None,
    group: Group = ALONE,
    progress: bool = True,
) -> dict:
    """Train ``setup`` here, on this thread (as fast as the engine goes), and write what the run left. Returns what
    the run came to (written to ``out``/run.json by the leader)."""
    leader = group.leader
    history = open_history(runs_db) if leader else None
    workspace = Workspace(data_dir, setup.run.device, processes=False, runs=history, inline=True)
    workspace.limits = ServerLimits()  # your own terminal: the settings' own limits, and nobody to ask
    session = Session(workspace)
    terminal = TerminalProgress(session, shown=progress and leader)

    def stop_on_ctrl_c(signum, frame) -> None:  # a run stopped is still a run: kept, reported, its models written
        session.training.stop()
        signal.signal(signal.SIGINT, signal.default_int_handler)  # a second Ctrl-C quits at once
        if leader:
            tqdm.write("Stopping after this batch; the run is kept and written (Ctrl-C again quits at once).")

    before = signal.signal(signal.SIGINT, stop_on_ctrl_c)
    try:
        updates = session.training.train(setup)
        for event in updates:
            terminal.show(event)
    finally:
        signal.signal(signal.SIGINT, before)
        terminal.close()
    finished = updates.result.finished
    summary = {
        "status": finished.reason,
        "duration_s": round(finished.elapsed_s, 2),
        "processes": group.world,
        "run_id": updates.result.run_id,
        "history": str(workspace.runs.path) if workspace.runs is not None else None,
        "models": {
            name: {
                "test_accuracy": result.test_accuracy,
                "epochs": result.epochs_done,
                "steps": result.steps,
                "images_per_s": round(result.images_per_s, 1),
                "status": result.status,
            }
            for name, result in finished.results.items()
        },
        "files": [],
    }
    if leader and out is not None:
        out.mkdir(parents=True, exist_ok=True)
        written = session.history.write_report(out)
        for name in NAMES:
            for file_format in MODEL_FORMATS:
                written += session.history.export_model(name, file_format, out)
        (out / "setup.json").write_text(setup.to_json(), encoding="utf-8")
        summary["files"] = sorted(p.name for p in [*written, out / "setup.json", out / "run.json"])
        (out / "run.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return summary


def default_out() -> Path:
    return Path("cnn_lab_runs") / f"run_{datetime.now(timezone.utc):%Y%m%d_%H%M%S}"


def words(summary: dict, out: Path | None) -> str:
    """The run's end in a few lines for the terminal."""
    lines = [
        f"{summary['status'].capitalize()} in {summary['duration_s']:.1f} s"
        + (f" on {summary['processes']} processes" if summary["processes"] > 1 else "")
    ]
    for name, model in summary["models"].items():
        accuracy = "not scored" if model["test_accuracy"] is None else f"{model['test_accuracy']:.2%}"
        epochs = f"{model['epochs']} epoch{'s' if model['epochs'] != 1 else ''}"
        lines.append(f"  Model {name}: test accuracy {accuracy} after {epochs} ({model['status']})")
    if summary["run_id"] is not None:
        lines.append(f"  Run #{summary['run_id']} in the history {summary['history']}")
    if out is not None and summary["files"]:
        lines.append(f"  Wrote {len(summary['files'])} files to {out}/: {', '.join(summary['files'])}")
    return "\n".join(lines)


FAILURES = (SessionError, DataError, ConfigError)  # a run that failed; missing data or a setting the data refuses
__all__ = ["FAILURES", "default_out", "train_in_terminal", "words"]
