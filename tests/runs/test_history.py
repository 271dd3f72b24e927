"""The run history: what one server process keeps another one reads, two writers at once lose nothing, and each
owner sees and deletes only their own runs when asked to."""

import dataclasses
import subprocess
import sys
import textwrap
from pathlib import Path

from small_runs import record

from cnn_lab.runs.history import RunStore, code_version


def test_a_run_kept_by_one_process_is_read_back_whole_by_another(tmp_path):
    path = tmp_path / "history" / "runs.sqlite"  # the folder is made
    kept = record(seed=7)
    run_id = RunStore(path).record(kept)
    read = subprocess.run(
        [sys.executable, "-c", f"from cnn_lab.runs.history import RunStore; r = RunStore({str(path)!r}).runs()[0]; "
         "print(r.id, r.setup.run.seed, r.models['B'].params, len(r.evaluations), r.code_version)"],
        capture_output=True, text=True, check=True,
    ).stdout.strip().split(maxsplit=4)  # fmt: skip
    assert read == [str(run_id), "7", "12002", "3", code_version()]
    (back,) = RunStore(path).runs()
    assert back == dataclasses.replace(kept, id=run_id)  # every field as it was written


def test_two_processes_writing_at_once_lose_nothing(tmp_path):
    path = tmp_path / "runs.sqlite"
    RunStore(path)
    writer = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(Path(__file__).parents[1])!r})
        from small_runs import record
        from cnn_lab.runs.history import RunStore
        store = RunStore({str(path)!r})
        for k in range(25):
            store.record(record(owner=sys.argv[1], seed=k, evaluations=20))
    """)
    procs = [subprocess.Popen([sys.executable, "-c", writer, owner]) for owner in ("one", "two")]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    store = RunStore(path)
    runs = store.runs()
    assert len(runs) == 50 and len({r.id for r in runs}) == 50
    assert all(len(r.evaluations) == 20 for r in runs)
    assert sorted(r.setup.run.seed for r in store.runs(owner="one")) == list(range(25))


def test_owners_see_and_delete_only_their_own_runs(tmp_path):
    store = RunStore(tmp_path / "runs.sqlite")
    mine = [store.record(record(owner="me")) for _ in range(2)]
    theirs = store.record(record(owner="them"))
    assert [r.id for r in store.runs(owner="me")] == mine[::-1]  # newest first
    assert store.delete([theirs], owner="me") == 0 and len(store.runs()) == 3
    assert store.delete([mine[0], theirs]) == 2
    assert [r.id for r in store.runs()] == [mine[1]]
    assert [r.id for r in store.runs(ids=[mine[1], 999])] == [mine[1]]
