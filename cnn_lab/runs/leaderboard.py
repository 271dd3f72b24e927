"""A class leaderboard: each student exports a run as a small JSON record, the teacher imports them all, and the
models are ranked by test accuracy or by accuracy per MFLOP, beside published results for MNIST.

A record is plain JSON (never code), checked field by field on the way in.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from cnn_lab.core.config import ConfigError, ExperimentConfig
from cnn_lab.core.errors import quoted
from cnn_lab.core.strict_json import load_json
from cnn_lab.runs.history import RunRecord

RECORD_FORMAT = "cnn_lab leaderboard record"
MAX_RECORD_BYTES = 64 * 1024
MAX_NAME = 60
RANKINGS = ("test accuracy", "accuracy per MFLOP")


@dataclass(frozen=True)
class Entry:
    """One model of one run on the leaderboard."""

    who: str
    model: str  # "A" or "B"
    dataset: str
    test_accuracy: float  # 0-1
    params: int
    flops: int
    summary: str  # the model in a few words


@dataclass(frozen=True)
class Published:
    """A published MNIST result, for comparison (test error as the paper reports it)."""

    model: str
    test_accuracy: float
    source: str


# Test errors as reported by the papers (accuracy = 100 % - error); their FLOPs are not reported, so they are ranked
# by accuracy only.
PUBLISHED = (
    Published(
        "LeNet-5", 0.9905,
        "LeCun, Bottou, Bengio, Haffner: Gradient-based learning applied to document recognition, Proc. IEEE 1998 "
        "(0.95 % error)",
    ),
    Published(
        "CNN + elastic distortions", 0.9960,
        "Simard, Steinkraus, Platt: Best practices for convolutional neural networks applied to visual document "
        "analysis, ICDAR 2003 (0.40 % error)",
    ),
    Published(
        "Multi-column deep CNN (35 nets)", 0.9977,
        "Ciresan, Meier, Schmidhuber: Multi-column deep neural networks for image classification, CVPR 2012 "
        "(0.23 % error)",
    ),
    Published(
        "DropConnect ensemble", 0.9979,
        "Wan, Zeiler, Zhang, LeCun, Fergus: Regularization of neural networks using DropConnect, ICML 2013 "
        "(0.21 % error)",
    ),
)  # fmt: skip


def record_of(run: RunRecord, who: str) -> dict:
    """A run as a leaderboard record: who, the setup, the data, and each model's accuracy, size and compute."""
    who = check_name(who)
    return {
        "format": RECORD_FORMAT,
        "version": 1,
        "who": who,
        "setup": run.setup.to_dict(),
        "data_source": run.data_source,
        "device": run.device,
        "started_at": run.started_at,
        "code_version": run.code_version,
        "models": {
            name: {"test_accuracy": m.test_accuracy, "params": m.params, "flops": m.flops, "epochs": m.epochs}
            for name, m in run.models.items()
            if m.test_accuracy is not None
        },
    }


def check_name(who: object) -> str:
    if not isinstance(who, str) or not who.strip() or len(who.strip()) > MAX_NAME:
        raise ConfigError(f"name must be 1 to {MAX_NAME} characters, got {quoted(who)}", "name")
    return who.strip()


def entries_of(data: bytes, filename: str = "") -> list[Entry]:
    """A record file's models as leaderboard entries, every field checked (a ConfigError names the first bad one)."""
    name = filename or "the record"
    if len(data) > MAX_RECORD_BYTES:
        raise ConfigError(f"record must be at most {MAX_RECORD_BYTES // 1024} KB, {name} is larger", "record")
    try:
        record = load_json(data, "record", name)
    except ConfigError as err:
        raise ConfigError(f"record must be a cnn_lab leaderboard record (JSON); {err}", "record") from None
    if not isinstance(record, dict) or record.get("format") != RECORD_FORMAT:
        raise ConfigError(f"record must be a cnn_lab leaderboard record; {name} says it is something else", "record")
    try:
        setup = ExperimentConfig.from_dict(record["setup"])
        who = check_name(record["who"])
        found = []
        for model, result in record["models"].items():
            if model not in ("A", "B"):
                raise ConfigError(f"record: model must be A or B, got {quoted(model)}", "record")
            accuracy, params, flops = float(result["test_accuracy"]), int(result["params"]), int(result["flops"])
            if not (0 <= accuracy <= 1 and params > 0 and flops > 0):
                raise ConfigError(
                    f"record: model {model}'s test_accuracy must be 0 to 1 and params and flops positive", "record"
                )
            spec = setup.a if model == "A" else setup.b
            epochs = result.get("epochs", "?")
            words = f"{params:,} params, {spec.train.optimizer} {spec.train.learning_rate:g}, {epochs} epochs"
            found.append(Entry(who, model, setup.run.dataset, accuracy, params, flops, words))
    except (KeyError, TypeError, ValueError, AttributeError) as err:  # AttributeError: "models" not an object
        if isinstance(err, ConfigError):
            raise ConfigError(f"{name}: {err}", err.field) from None
        raise ConfigError(f"record: {name} lacks or garbles a field ({err})", "record") from None
    return found


def leaderboard_frame(entries: list[Entry], ranking: str, dataset: str = "mnist") -> pd.DataFrame:
    """The entries of ``dataset`` ranked by ``ranking`` (one of RANKINGS), with the published MNIST results among
    them when ranking by accuracy."""
    if ranking not in RANKINGS:
        raise ConfigError(f"rank by must be one of {', '.join(RANKINGS)}, got {quoted(ranking)}", "rank by")
    rows = [
        {
            "who": e.who,
            "model": f"{e.model}: {e.summary}",
            "test accuracy": e.test_accuracy,
            "MFLOPs": e.flops / 1e6,
            "accuracy (%) per MFLOP": 100 * e.test_accuracy / (e.flops / 1e6),
            "source": "this class",
        }
        for e in entries
        if e.dataset == dataset
    ]
    if ranking == "test accuracy" and dataset == "mnist":
        rows += [
            {"who": "published", "model": p.model, "test accuracy": p.test_accuracy, "MFLOPs": None,
             "accuracy (%) per MFLOP": None, "source": p.source}
            for p in PUBLISHED
        ]  # fmt: skip
    key = "test accuracy" if ranking == "test accuracy" else "accuracy (%) per MFLOP"
    rows.sort(key=lambda row: row[key], reverse=True)
    frame = pd.DataFrame(rows, columns=["who", "model", "test accuracy", "MFLOPs", "accuracy (%) per MFLOP", "source"])
    frame.insert(0, "rank", range(1, len(frame) + 1))
    frame["test accuracy"] = [f"{a:.2%}" for a in frame["test accuracy"]]
    frame["MFLOPs"] = ["" if m is None or pd.isna(m) else f"{m:.2f}" for m in frame["MFLOPs"]]
    frame["accuracy (%) per MFLOP"] = [
        "" if v is None or pd.isna(v) else f"{v:.1f}" for v in frame["accuracy (%) per MFLOP"]
    ]
    return frame
