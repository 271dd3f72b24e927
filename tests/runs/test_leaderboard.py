"""The class leaderboard: a run's record goes out as JSON and comes back as entries, ranked among published results;
anything that is not a sound record is refused naming what is wrong."""

import dataclasses
import json

import pytest
from small_runs import record, small_setup

from cnn_lab.core.config import ConfigError
from cnn_lab.runs.history import RunStore
from cnn_lab.runs.leaderboard import PUBLISHED, entries_of, leaderboard_frame, record_of
from cnn_lab.session import Session, Workspace


def as_bytes(data: dict) -> bytes:
    return json.dumps(data).encode()


def test_a_record_round_trips_and_ranks_among_the_published_results():
    run = dataclasses.replace(record(), id=1)
    data = record_of(run, "  Ada  ")
    entries = entries_of(as_bytes(data))
    assert [(e.who, e.model, e.test_accuracy, e.params) for e in entries] == [
        ("Ada", "A", 0.98, 12_002),
        ("Ada", "B", 0.98, 12_002),
    ]
    better = entries_of(
        as_bytes({**data, "who": "Grace", "models": {"A": {**data["models"]["A"], "test_accuracy": 0.995}}})
    )
    board = leaderboard_frame(entries + better, "test accuracy")
    assert board["rank"].tolist() == list(range(1, 3 + len(PUBLISHED) + 1))
    order = board["who"].tolist()
    assert order.index("Grace") == 3 and order[:3] == ["published"] * 3  # 99.5 %: behind 99.79, 99.77 and 99.60
    assert board["test accuracy"].tolist()[3] == "99.50%" and board["who"].tolist()[-2:] == ["Ada", "Ada"]
    lenet = board[board["model"] == "LeNet-5"].iloc[0]
    assert lenet["test accuracy"] == "99.05%" and lenet["source"].startswith("LeCun, Bottou, Bengio, Haffner")
    thrifty = leaderboard_frame(entries + better, "accuracy per MFLOP")
    assert "published" not in thrifty["who"].tolist()  # no FLOPs published: ranked by accuracy only
    assert thrifty["accuracy (%) per MFLOP"].tolist()[0] == f"{99.5 / 2.39:.1f}"


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"not json", "not valid JSON"),
        (as_bytes({"format": "something else"}), "says it is something else"),
        (b" " * (64 * 1024 + 1), "at most 64 KB"),
    ],
)
def test_what_is_not_a_record_is_refused(data, words):
    with pytest.raises(ConfigError, match=words) as err:
        entries_of(data, "upload.json")
    assert err.value.field == "record"


def test_a_record_with_a_bad_field_is_refused_naming_it():
    data = record_of(dataclasses.replace(record(), id=1), "Ada")
    with pytest.raises(ConfigError, match="test_accuracy must be 0 to 1"):
        entries_of(as_bytes({**data, "models": {"A": {**data["models"]["A"], "test_accuracy": 1.5}}}))
    with pytest.raises(ConfigError, match="name must be 1 to 60 characters"):
        entries_of(as_bytes({**data, "who": "x" * 61}))
    with pytest.raises(ConfigError, match="lacks or garbles a field"):
        entries_of(as_bytes({k: v for k, v in data.items() if k != "setup"}))
    with pytest.raises(ConfigError, match="lacks or garbles a field"):  # once an AttributeError and a traceback
        entries_of(as_bytes({**data, "models": "abc"}))


def test_a_students_run_joins_the_teachers_leaderboard(mnist, tmp_path):
    workspace = Workspace(processes=False, runs=RunStore(tmp_path / "runs.sqlite"))
    workspace.dataset = lambda name: mnist
    student, teacher = Session(workspace), Session(workspace)
    list(student.training.train(small_setup(epochs=1)))
    data = student.history.leaderboard_record("Ada")
    assert data["models"]["A"]["test_accuracy"] == pytest.approx(student.pair.contenders["A"].test_accuracy)
    assert teacher.history.add_leaderboard_records([(as_bytes(data), "ada.json")]) == 2
    assert teacher.history.add_leaderboard_records([(as_bytes(data), "ada.json")]) == 0  # the same record twice: once
    board = leaderboard_frame(teacher.history.leaderboard_entries, "accuracy per MFLOP")
    assert board["who"].tolist() == ["Ada", "Ada"]
