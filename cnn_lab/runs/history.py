"""Run history that outlasts the server: every finished or stopped run in one SQLite file.

WAL mode lets the page read while a session writes, and two sessions writing
at once wait for each other (up to WRITE_WAIT_S) instead of failing. A run is
written in one transaction: its setup as JSON, each model's result, and every
evaluation (the curves).
"""

from __future__ import annotations

import functools
import json
import sqlite3
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from cnn_lab.core.config import ExperimentConfig
from cnn_lab.data.datasets import cache_dir

WRITE_WAIT_S = 10.0
LOCAL = "local"  # the owner of every run of a single-user server

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    owner TEXT NOT NULL,
    started_at TEXT NOT NULL,
    status TEXT NOT NULL,
    setup TEXT NOT NULL,
    data_source TEXT NOT NULL,
    device TEXT NOT NULL,
    precision TEXT NOT NULL,
    duration_s REAL NOT NULL,
    code_version TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS results (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    model TEXT NOT NULL,
    status TEXT NOT NULL,
    test_accuracy REAL,
    validation_accuracy REAL,
    epochs INTEGER NOT NULL,
    steps INTEGER NOT NULL,
    images INTEGER NOT NULL,
    train_time_s REAL NOT NULL,
    images_per_s REAL NOT NULL,
    params INTEGER NOT NULL,
    flops INTEGER NOT NULL,
    PRIMARY KEY (run_id, model)
);
CREATE TABLE IF NOT EXISTS evaluations (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    model TEXT NOT NULL,
    epoch INTEGER NOT NULL,
    images_seen INTEGER NOT NULL,
    test_loss REAL,
    test_accuracy REAL,
    validation_loss REAL,
    validation_accuracy REAL
);
CREATE INDEX IF NOT EXISTS runs_by_owner ON runs(owner);
CREATE INDEX IF NOT EXISTS evaluations_by_run ON evaluations(run_id);
"""


def default_path() -> Path:
    """runs.sqlite in cnn_lab's folder of the user's cache ($XDG_CACHE_HOME, else ~/.cache)."""
    return cache_dir() / "runs.sqlite"


@functools.cache
def code_version() -> str:
    """The installed cnn_lab version, and the git commit it runs from where there is one."""
    try:
        version = metadata.version("cnn-lab")
    except metadata.PackageNotFoundError:
        version = "unknown"
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return f"{version} ({commit})" if commit else version


@dataclass(frozen=True)
class ModelRecord:
    """One model's end of a run."""

    status: str
    test_accuracy: float | None
    validation_accuracy: float | None
    epochs: int
    steps: int
    images: int
    train_time_s: float
    images_per_s: float
    params: int
    flops: int


@dataclass(frozen=True)
class Evaluation:
    model: str
    epoch: int
    images_seen: int
    test_loss: float | None
    test_accuracy: float | None
    validation_loss: float | None = None
    validation_accuracy: float | None = None


@dataclass(frozen=True)
class RunRecord:
    """A finished or stopped run as the history keeps it."""

    owner: str
    started_at: str  # ISO 8601, UTC
    status: str
    setup: ExperimentConfig
    data_source: str
    device: str
    precision: str
    duration_s: float
    models: dict[str, ModelRecord]
    evaluations: tuple[Evaluation, ...] = ()
    code_version: str = field(default_factory=code_version)
    id: int | None = None


def open_history(path: str | Path | None) -> RunStore | None:
    """The run history at ``path`` (default: under the user's cache folder), or None, said once, where it cannot be
    opened: runs work without one."""
    where = path or default_path()
    try:
        return RunStore(where)
    except (OSError, sqlite3.Error) as err:
        print(f"Note: the run history {where} cannot be opened ({err}); runs are not kept.", flush=True)
        return None


class RunStore:
    """The run history in the SQLite file at ``path`` (created with its folder when missing)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")  # kept by the file: readers and one writer at once
            db.executescript(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=WRITE_WAIT_S)
        db.execute("PRAGMA foreign_keys=ON")
        return db

    def record(self, run: RunRecord) -> int:
        """Keep ``run``; returns its id."""
        with self._connect() as db:
            cursor = db.execute(
                "INSERT INTO runs (owner, started_at, status, setup, data_source, device, precision, duration_s, "
                "code_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    run.owner, run.started_at, run.status, json.dumps(run.setup.to_dict()), run.data_source,
                    run.device, run.precision, run.duration_s, run.code_version,
                ),
            )  # fmt: skip
            run_id = cursor.lastrowid
            db.executemany(
                "INSERT INTO results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        run_id, name, m.status, m.test_accuracy, m.validation_accuracy, m.epochs, m.steps,
                        m.images, m.train_time_s, m.images_per_s, m.params, m.flops,
                    )
                    for name, m in run.models.items()
                ],
            )  # fmt: skip
            db.executemany(
                "INSERT INTO evaluations VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        run_id, e.model, e.epoch, e.images_seen, e.test_loss, e.test_accuracy, e.validation_loss,
                        e.validation_accuracy,
                    )
                    for e in run.evaluations
                ],
            )  # fmt: skip
        return run_id

    def runs(self, owner: str | None = None, ids: Iterable[int] | None = None) -> list[RunRecord]:
        """The runs of ``owner`` (None: everyone's), newest first; only those in ``ids`` when given."""
        where, args = [], []
        if owner is not None:
            where.append("owner = ?")
            args.append(owner)
        if ids is not None:
            ids = [int(i) for i in ids]
            where.append(f"id IN ({', '.join('?' * len(ids))})")
            args.extend(ids)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        with self._connect() as db:
            rows = db.execute(f"SELECT * FROM runs {clause} ORDER BY id DESC", args).fetchall()
            results = self._by_run(db, "SELECT * FROM results WHERE run_id IN ({})", [r[0] for r in rows])
            evaluations = self._by_run(
                db, "SELECT * FROM evaluations WHERE run_id IN ({}) ORDER BY rowid", [r[0] for r in rows]
            )
        return [
            RunRecord(
                owner,
                started_at,
                status,
                ExperimentConfig.from_dict(json.loads(setup)),
                data_source,
                device,
                precision,
                duration_s,
                {r[1]: ModelRecord(*r[2:]) for r in results.get(run_id, [])},
                tuple(Evaluation(*e[1:]) for e in evaluations.get(run_id, [])),
                version,
                run_id,
            )  # fmt: skip
            for run_id, owner, started_at, status, setup, data_source, device, precision, duration_s, version in rows
        ]

    @staticmethod
    def _by_run(db: sqlite3.Connection, query: str, run_ids: list[int]) -> dict[int, list[tuple]]:
        grouped: dict[int, list[tuple]] = {}
        if run_ids:
            for row in db.execute(query.format(", ".join("?" * len(run_ids))), run_ids):
                grouped.setdefault(row[0], []).append(row)
        return grouped

    def delete(self, ids: Iterable[int], owner: str | None = None) -> int:
        """Forget the runs ``ids`` (of ``owner`` only, when given); returns how many went."""
        ids = [int(i) for i in ids]
        if not ids:
            return 0
        clause = f"id IN ({', '.join('?' * len(ids))})" + (" AND owner = ?" if owner is not None else "")
        with self._connect() as db:
            return db.execute(
                f"DELETE FROM runs WHERE {clause}", [*ids, *([owner] if owner is not None else [])]
            ).rowcount
