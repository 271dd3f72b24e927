"""Worker processes: jobs run in them, come back, fail, die and are stopped without taking the caller down."""

from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
import sys
import threading
import time
from dataclasses import dataclass

import psutil
import pytest
import torch

from cnn_lab.core.config import ModelConfig, ModelSpec, TrainConfig
from cnn_lab.engine.contenders import Contender
from cnn_lab.engine.jobs import Shipped
from cnn_lab.engine.turns import CoreTurns
from cnn_lab.engine.worker import Worker, WorkerDied, WorkerPool


@dataclass
class Count:
    """Counts to ``n``; with ``forever``, goes on until stopped; with ``fail``, raises at ``n``."""

    n: int
    forever: bool = False
    fail: bool = False

    def events(self, stop):
        i = 0
        while (i < self.n or self.forever) and not stop.is_set():
            yield i
            i += 1
        if self.fail:
            raise ValueError(f"failed at {i}")
        return {"counted": i, "pid": os.getpid(), "threads": torch.get_num_threads()}


def run_all(events):
    """A job's events (quiet moments left out) and its result."""
    seen = []
    while True:
        try:
            event = next(events)
        except StopIteration as end:
            return seen, end.value
        if event is not None:
            seen.append(event)


@pytest.fixture(scope="module")
def pool():
    workers = WorkerPool(cores=2)
    yield workers
    workers.close()


def test_a_job_runs_in_another_process_and_the_worker_is_reused(pool):
    first = pool.start(Count(5))
    seen, result = run_all(first.events())
    assert seen == [0, 1, 2, 3, 4] and result["counted"] == 5
    assert result["pid"] == first.pid != os.getpid() and result["threads"] == 2  # alone: all the cores
    again = pool.start(Count(2))
    assert again.pid == first.pid and run_all(again.events())[1]["counted"] == 2


def test_a_failing_job_raises_its_error_here_and_its_worker_goes_on(pool):
    run = pool.start(Count(3, fail=True))
    with pytest.raises(ValueError, match="failed at 3"):
        run_all(run.events())
    assert run_all(pool.start(Count(1)).events())[1]["pid"] == run.pid


def _cannot_unpack():
    raise MemoryError("no room for the job's data")


class Unpackable:
    """A job that cannot be unpacked in the worker, as when its data does not fit in memory there."""

    def __reduce__(self):
        return _cannot_unpack, ()


def test_a_job_that_cannot_be_unpacked_there_raises_here_and_its_worker_goes_on(pool):
    run = pool.start(Unpackable())
    with pytest.raises(MemoryError, match="no room for the job's data"):
        run_all(run.events())
    assert run_all(pool.start(Count(1)).events())[1]["pid"] == run.pid


def test_stop_ends_a_job_and_a_reader_that_leaves_stops_it_too(pool):
    run = pool.start(Count(0, forever=True))
    events = run.events()
    assert next(e for e in events if e is not None) == 0
    run.stop_event.set()
    seen, result = run_all(events)
    assert result["counted"] >= 1
    left = pool.start(Count(0, forever=True))
    events = left.events()
    next(e for e in events if e is not None)
    events.close()  # the page went away mid-run
    follow = pool.start(Count(1))
    assert run_all(follow.events())[1]["counted"] == 1


def first_event(events, timeout_s: float = 30):
    """The first thing a job says, within ``timeout_s`` (its reader hears None every half second of silence)."""
    deadline = time.monotonic() + timeout_s
    for event in events:
        if event is not None:
            return event
        assert time.monotonic() < deadline, f"the job said nothing for {timeout_s} s"


def read_in_background(run) -> dict:
    """Read ``run``'s events on a thread, as the page's reader does (a worker whose pipe is full waits, holding the
    cores); the dict gets "result" when it ends."""
    out = {}

    def read():
        out["result"] = run_all(run.events())[1]

    out["thread"] = threading.Thread(target=read, daemon=True)
    out["thread"].start()
    return out


def test_two_jobs_at_once_run_in_two_processes_on_all_the_cores_taking_turns(pool):
    one, two = pool.start(Count(0, forever=True)), pool.start(Count(0, forever=True))
    assert one.pid != two.pid and (one.threads, two.threads) == (2, 2)  # every run on all the cores, whoever trains
    first, second = read_in_background(one), read_in_background(two)
    holders = []
    deadline = time.monotonic() + 30
    while len(set(holders) - {0}) < 2 and time.monotonic() < deadline:
        holders.append(pool.turns.holder)
        time.sleep(0.01)
    assert set(holders) - {0} == {one.pid, two.pid}  # by turns: each held all the cores for a while
    one.stop_event.set()
    first["thread"].join(10)
    assert first["result"]["threads"] == 2 and second["thread"].is_alive()  # the other one runs on
    two.stop_event.set()
    second["thread"].join(10)
    assert second["result"]["threads"] == 2 and pool.turns.holder == 0


def test_a_gpu_job_does_not_wait_for_the_cores(pool):
    cpu = pool.start(Count(0, forever=True))
    events = cpu.events()
    first_event(events)
    gpu = pool.start(Count(3), on_cpu=False)
    assert run_all(gpu.events())[1]["counted"] == 3
    cpu.stop_event.set()
    run_all(events)


def test_the_cores_are_passed_in_the_order_runs_asked_for_them():
    turns = CoreTurns(multiprocessing.get_context("spawn"), slice_s=0.0)
    turns.take(1)
    order = []

    def wait(who):
        turns.take(who)
        order.append(who)
        turns.give(who)

    waiting = []
    for who in (2, 3, 4):
        waiting.append(threading.Thread(target=wait, args=(who,)))
        waiting[-1].start()
        deadline = time.monotonic() + 5
        while len(turns._waiting()) < who - 1 and time.monotonic() < deadline:
            time.sleep(0.01)
    turns.give(1)
    for thread in waiting:
        thread.join(5)
    assert order == [2, 3, 4] and turns.holder == 0 and not turns.someone_waits()


def test_a_worker_that_dies_holding_the_cores_does_not_hold_up_the_others(pool):
    holder = pool.start(Count(0, forever=True))
    held = holder.events()
    first_event(held)
    wait_until = time.monotonic() + 10
    while pool.turns.holder != holder.pid and time.monotonic() < wait_until:
        time.sleep(0.01)
    other = pool.start(Count(0, forever=True))
    waiting = other.events()
    os.kill(holder.pid, signal.SIGKILL)
    with pytest.raises(WorkerDied):
        run_all(held)
    assert first_event(waiting) == 0  # the dead one's turn was given back
    other.stop_event.set()
    run_all(waiting)


def test_a_worker_killed_mid_job_is_reported_and_replaced(pool):
    run = pool.start(Count(0, forever=True))
    events = run.events()
    next(e for e in events if e is not None)
    os.kill(run.pid, signal.SIGKILL)
    with pytest.raises(WorkerDied, match="killed by SIGKILL"):
        run_all(events)
    fresh = pool.start(Count(2))
    assert fresh.pid != run.pid and run_all(fresh.events())[1]["counted"] == 2


def test_a_worker_that_exits_says_its_code():
    worker = Worker()
    worker.process.kill()
    worker.process.join(10)
    with pytest.raises(WorkerDied, match="killed by SIGKILL"):
        run_all(worker.run(Count(1)))
    worker.close()


def test_shipped_contenders_keep_weights_and_history_and_leave_the_senders_alone():
    spec = ModelSpec(ModelConfig.from_conv_channels([4, 8, 8, 8]), TrainConfig())
    contender = Contender.create("A", spec, seed=1)
    contender.epochs_done, contender.test_accuracy = 3, 0.97
    landed = pickle.loads(pickle.dumps(Shipped([contender]))).contenders[0]
    assert (landed.name, landed.epochs_done, landed.test_accuracy) == ("A", 3, 0.97)
    for mine, theirs in zip(contender.module.parameters(), landed.module.parameters(), strict=True):
        assert torch.equal(mine, theirs) and theirs.device.type == "cpu"
        assert not mine.is_shared()  # the sender's own weights were not moved into shared memory
    with torch.no_grad():
        next(landed.module.parameters()).add_(1)
    assert not torch.equal(next(contender.module.parameters()), next(landed.module.parameters()))


def test_the_pool_keeps_one_worker_warm_and_lets_the_rest_go(wait_until):
    workers = WorkerPool(keep_idle=1, cores=2, linger_s=1.0)
    try:
        workers.warm()
        wait_until(lambda: len(workers.processes) == 1, 60, "a warm worker")
        warm = workers.processes[0]
        one, two = workers.start(Count(0, forever=True)), workers.start(Count(0, forever=True))
        assert one.pid == warm and workers.processes == []
        for run in (one, two):
            run.stop_event.set()
            run_all(run.events())
        assert sorted(workers.processes) == sorted([one.pid, two.pid])  # ready for two runs again, for a while
        wait_until(lambda: len(workers.processes) == 1, 30, "the lingering worker to exit")
        gone = two.pid if workers.processes == [one.pid] else one.pid
        wait_until(lambda: not psutil.pid_exists(gone), 10, "its process to end")  # its memory back to the system
    finally:
        workers.close()


@dataclass
class Imported:
    """Says which of ``modules`` the worker had imported before its job began."""

    modules: tuple[str, ...]

    def events(self, stop):
        yield from ()  # nothing to say before its result
        return {name: name in sys.modules for name in self.modules}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers come from a fork server on Linux only")
def test_workers_come_with_the_engine_and_torch_dynamo_imported_but_not_torchvision_or_gradio(pool):
    # torch.optim imports torch._dynamo the first time an optimizer is made: a worker that imported it on its own
    # would hold ~190 MB the fork server's other workers share
    modules = ("cnn_lab.engine.training", "torch._dynamo", "torchvision", "gradio")
    _, result = run_all(pool.start(Imported(modules)).events())
    assert result == {"cnn_lab.engine.training": True, "torch._dynamo": True, "torchvision": False, "gradio": False}
