"""The run history as the Runs tab shows it, from plain records: the table, the curves of chosen runs, a setup in
words and the difference of two, and a repeat over seeds."""

from __future__ import annotations

import pandas as pd

from cnn_lab.core.config import MODEL_NAMES as NAMES
from cnn_lab.data.datasets import DATASET_INFO, UPLOADED
from cnn_lab.engine.seeds import SeedVerdict
from cnn_lab.runs.history import RunRecord
from cnn_lab.views.labels import CHOICE_LABELS, field_label
from cnn_lab.views.run_view import duration_text

COLUMNS = [
    "run", "started (UTC)", "status", "dataset", "A test", "B test", "time", "model A", "model B", "images/s A · B",
    "device",
]  # fmt: skip


def run_label(record: RunRecord) -> str:
    return f"#{record.id}"


def labels_text(labels: list[str]) -> str:
    """#3, #5 and #8."""
    return " and ".join([", ".join(labels[:-1]), labels[-1]] if len(labels) > 1 else labels)


def data_words(record: RunRecord) -> tuple[str, str]:
    """What a run learnt from ("MNIST, 10,000 train / 10,000 test"), and where the server read it (a folder of the
    server's, or "" where it came with the app or an upload): the table shows the first, a setup comparison both."""
    head, found, where = record.data_source.rpartition(", from ")
    return (head, where) if found else (record.data_source, "")


def model_words(record: RunRecord, name: str) -> str:
    """One model of a run in a few words: size, optimizer and rate, epochs."""
    spec = record.setup.a if name == "A" else record.setup.b
    result = record.models.get(name)
    params = f"{result.params:,} params, " if result else ""
    return f"{params}{spec.train.optimizer} {spec.train.learning_rate:g}, {result.epochs if result else 0} epochs"


def accuracy_text(record: RunRecord, name: str) -> str:
    result = record.models.get(name)
    return "" if result is None or result.test_accuracy is None else f"{result.test_accuracy:.2%}"


def runs_frame(records: list[RunRecord], text: str = "") -> pd.DataFrame:
    """One row per run, newest first; with ``text``, only the rows where some cell holds it (any case)."""
    rows = [
        [
            run_label(r), r.started_at.replace("T", " ")[:19], r.status, data_words(r)[0],
            accuracy_text(r, "A"), accuracy_text(r, "B"), duration_text(r.duration_s), model_words(r, "A"),
            model_words(r, "B"), " · ".join(f"{r.models[n].images_per_s:,.0f}" if n in r.models else "-" for n in NAMES),
            r.device,
        ]
        for r in records
    ]  # fmt: skip
    needle = str(text or "").strip().lower()
    if needle:
        rows = [row for row in rows if any(needle in str(cell).lower() for cell in row)]
    return pd.DataFrame(rows, columns=COLUMNS)


def run_curves(records: list[RunRecord]) -> dict[str, tuple[list[int], list[float]]]:
    """Test accuracy (%) over images seen for every model of the chosen runs: "#3 A" -> (images seen, accuracies)."""
    curves: dict[str, tuple[list[int], list[float]]] = {}
    for r in records:
        for e in r.evaluations:
            if e.test_accuracy is not None:
                xs, ys = curves.setdefault(f"{run_label(r)} {e.model}", ([], []))
                xs.append(e.images_seen)
                ys.append(100 * e.test_accuracy)
    return curves


RUN_LABELS = {  # as the Train tab's run settings name them
    "dataset": "Dataset",
    "train_subset": "Training images",
    "seed": "Seed",
    "device": "Device asked for",
    "precision": "Precision asked for",
    "evals_per_epoch": "Test evaluations per epoch",
    "validation_size": "Validation images",
    "identical_init": "Identical initial weights",
}
NONE_MEANS = {"train_subset": "all", "weight_decay": "the optimizer's usual", "momentum": "the optimizer's usual"}


def setting_text(field: str, value) -> str:
    """A setting's value as the page shows it: "all" for no training subset, "Adam" for adam, "on" for True."""
    choices = {choice: label for label, choice in CHOICE_LABELS.get(field, [])}
    if value is None:
        return NONE_MEANS.get(field, "none")
    if field == "dataset":
        return DATASET_INFO[value].title if value in DATASET_INFO else "your data" if value == UPLOADED else str(value)
    if field == "validation_size" and value == 0:
        return "none"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, (list, tuple)):
        return ", ".join(choices.get(item, str(item)) for item in value) or "none"
    if isinstance(value, int):
        return str(value) if field == "seed" else f"{value:,}"
    if isinstance(value, float):
        return f"{value:g}"
    return choices.get(value, str(value))


def setup_words(record: RunRecord) -> dict[str, str]:
    """A run's setup and circumstances in the page's words ("Model A · Learning rate": "0.001"), run settings first."""
    words = {RUN_LABELS.get(f, f.replace("_", " ")): setting_text(f, v) for f, v in record.setup.run.to_dict().items()}
    for name, spec in zip(NAMES, (record.setup.a, record.setup.b), strict=True):
        model = spec.model
        words[f"Model {name} · Layers"] = ", ".join(layer.describe() for layer in model.layers)
        words[f"Model {name} · Input size"] = "x".join(str(n) for n in model.input_shape)
        words[f"Model {name} · Classes"] = str(model.num_classes)
        for field, value in spec.train.to_dict().items():
            words[f"Model {name} · {field_label(field)}"] = setting_text(field, value)
    data, folder = data_words(record)
    words |= {"Data": data, **({"Read from": folder} if folder else {})}
    words |= {"Ran on": record.device, "Precision used": record.precision}
    return words


def setup_diff(first: RunRecord, second: RunRecord) -> pd.DataFrame:
    """Only what differs between two runs' setups, side by side, in words."""
    one, two = setup_words(first), setup_words(second)
    keys = [key for key in dict.fromkeys([*one, *two]) if one.get(key) != two.get(key)]
    return pd.DataFrame(
        [[key, one.get(key, ""), two.get(key, "")] for key in keys],
        columns=["setting", run_label(first), run_label(second)],
    )


def chosen(labels: list[str] | None, records: list[RunRecord]) -> list[RunRecord]:
    wanted = set(labels or [])
    return [r for r in records if run_label(r) in wanted]


def verdict_frame(verdict: SeedVerdict) -> pd.DataFrame:
    """Each model's test accuracy over the seeds: mean ± standard deviation, and every seed's."""
    return pd.DataFrame(
        [
            [f"Model {name}", f"{verdict.mean_pp(name):.2f} ± {verdict.std_pp(name):.2f} %",
             ", ".join(f"{100 * x:.2f}" for x in verdict.accuracies[name])]
            for name in NAMES
        ],
        columns=["", "test accuracy (mean ± std)", "per seed (%)"],
    )  # fmt: skip
