"""Trainings in processes of their own, so the server only relays them.

Measured here: the same training ran 15-25 % slower on a server thread
than on a process's main thread (OpenMP's spinning helps only the main
thread), a crash or out-of-memory in a thread takes the server down, and a
heap a run grew stays with the server. A worker process has its own main
thread, dies alone, and returns its memory. On Linux workers are forked
from a fork server that imported torch and the engine once (and never
touched CUDA or started a thread): a worker then shares those ~280 MB with
it instead of holding its own copy (measured: 21 MB of its own instead of
294, PSS 99 MB instead of 356), and starts at once. The fork server also
imports torch._dynamo, which every optimizer's first use would otherwise
import into each worker on its own. Elsewhere they are
spawned (macOS's frameworks are not safe to fork). A job's events come back
over a pipe as they happen, its result when it ends. The pool keeps one
worker warm so that a run starts at once. Every run trains on all the cores;
runs that train at the same time on the CPU take turns on them (turns.py: a
run's numbers then never depend on who else trains, and OpenMP threads never
outnumber the cores).
"""

from __future__ import annotations

import gc
import os
import pickle
import signal
import sys
import threading
import time
import traceback
from collections.abc import Generator
from multiprocessing.connection import Connection
from typing import Any, Protocol

import torch
import torch.multiprocessing as mp

from cnn_lab.core.events import CoresShared
from cnn_lab.engine.runtime import release_memory, tune_allocator
from cnn_lab.engine.turns import CoreTurns, Turn


def _start_method():
    """Where workers come from: a fork server with the engine imported on Linux, a fresh interpreter elsewhere."""
    if sys.platform.startswith("linux"):
        context = mp.get_context("forkserver")
        # torch and the engine, not torchvision or gradio; and torch._dynamo, which torch.optim imports the first
        # time an optimizer is made: imported here once, the workers share it instead of each importing its own
        # (measured: a training worker's private memory 185-203 MB without, 64-136 MB with)
        context.set_forkserver_preload(["cnn_lab.engine.jobs", "torch._dynamo"])
        return context
    return mp.get_context("spawn")


SPAWN = _start_method()
POLL_S = 0.5  # a job that says nothing for this long still gives its reader a chance to look up (None)
LINGER_S = 15.0  # a worker left over when runs end waits this long for the next run (starting one costs 1-2 s of CPU)
WAITED_NOTE_S = 0.5  # a run that waited longer for its turns on the cores says so in its log
SEND_EVERY_S = 0.1  # a worker sends its events in batches: every send wakes the server, which takes a core from it


class WorkerDied(RuntimeError):
    """A worker process ended in the middle of a job: killed, out of memory, or crashed."""


class Stop(Protocol):
    """What a job checks between batches: a threading.Event in process, a multiprocessing Event in a worker."""

    def is_set(self) -> bool: ...

    def set(self) -> None: ...


class Job(Protocol):
    """A picklable piece of training: events as it goes, a result at the end (its generator's return value)."""

    def events(self, stop: Stop) -> Generator[Any, None, Any]: ...


class _BetweenBatches:
    """What a job asks between batches in a worker: whether to stop, and on the way its turn on the cores."""

    def __init__(self, stop: Stop, turn: Turn | None):
        self._stop, self.turn = stop, turn

    def is_set(self) -> bool:
        if self.turn is not None:
            self.turn.between_batches()
        return self._stop.is_set()

    def set(self) -> None:
        self._stop.set()


def _serve(conn: Connection, stop: Stop, threads: int, turns: CoreTurns | None) -> None:
    """A worker's life: run each job it is sent (on ``threads`` threads, taking turns on the cores where it trains on
    the CPU) and relay what the job says, until told to exit or its server goes."""
    tune_allocator()
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):  # the server went away
            return
        except Exception as err:  # the job arrived but could not be unpacked here (its data: out of memory)
            traceback.print_exc()
            conn.send(("error", _portable(err)))
            continue
        if message is None:
            return
        job, on_cpu = message
        torch.set_num_threads(threads)
        turn = Turn(turns, os.getpid()) if turns is not None and on_cpu else None
        try:
            if turn is not None:
                turn.take()
            if not _relay(conn, job, _BetweenBatches(stop, turn)):
                return
        finally:
            if turn is not None:
                turn.give()
        job = message = None  # the job's models and data go before the next one comes
        gc.collect()
        release_memory()


def _relay(conn: Connection, job: Job, between: _BetweenBatches) -> bool:
    """Run ``job`` and send its events in batches, then its result or error; False when the server went away."""
    events = job.events(between)
    pending: list = []
    sent = time.perf_counter()
    try:
        while True:
            try:
                pending.append(next(events))
            except StopIteration as end:
                conn.send(("events", pending + _waited(between)))
                conn.send(("done", end.value))
                return True
            if time.perf_counter() - sent >= SEND_EVERY_S or getattr(pending[-1], "urgent", False):
                conn.send(("events", pending))
                pending, sent = [], time.perf_counter()
    except (BrokenPipeError, EOFError):
        return False
    except Exception as err:  # a bug, not the user's input (the session checked it): said, and the worker goes on
        traceback.print_exc()
        conn.send(("events", pending))
        conn.send(("error", _portable(err)))
        return True


def _waited(between: _BetweenBatches) -> list[CoresShared]:
    """A job that waited for its turns on the cores for a while says so as its last event."""
    turn = between.turn
    return [CoresShared(round(turn.waited_s, 1))] if turn is not None and turn.waited_s >= WAITED_NOTE_S else []


def _portable(err: Exception) -> Exception:
    """``err`` if it survives pickling, else a RuntimeError that says what it was."""
    try:
        pickle.loads(pickle.dumps(err))
        return err
    except Exception:
        return RuntimeError(f"{type(err).__name__}: {err}")


class Worker:
    """One worker process that runs jobs one after another (see _serve)."""

    def __init__(self, threads: int | None = None, turns: CoreTurns | None = None) -> None:
        self._conn, child = SPAWN.Pipe()
        self.stop = SPAWN.Event()
        self.threads = threads or torch.get_num_threads()  # every job's, whoever else trains
        self.turns = turns  # the pool's line for the cores (None: this worker's jobs never wait for them)
        self.process = SPAWN.Process(
            target=_serve, args=(child, self.stop, self.threads, turns), name="cnn_lab-training", daemon=True
        )
        self.process.start()
        child.close()  # ours closed: the pipe reads EOF the moment the worker dies
        self.busy = False  # a job was sent and has not ended yet

    @property
    def alive(self) -> bool:
        return self.process.is_alive()

    def run(self, job: Job, poll_s: float = POLL_S, on_cpu: bool = True) -> Generator[Any, None, Any]:
        """Send ``job`` (``on_cpu``: it trains on the CPU, and takes turns on its cores), yield its events (None after ``poll_s`` of silence) and return its result.

        Raises WorkerDied when the process ends before the job does, and the
        job's own error when it fails. Closed half-way, the job is left
        running (``busy``): set ``stop`` and call ``finish`` to wait it out."""
        self.busy = True
        try:
            self._conn.send((job, on_cpu))
        except OSError:
            raise self._died() from None
        while True:
            try:
                message = self._conn.recv() if self._conn.poll(poll_s) else None
            except (EOFError, OSError):
                raise self._died() from None
            if message is None:
                yield None
                continue
            kind, value = message
            if kind == "events":
                yield from value
                continue
            self.busy = False
            if kind == "done":
                return value
            raise value

    def _died(self) -> WorkerDied:
        """The pipe broke: the process is gone, and why."""
        self.busy = False
        death = self.death()
        self._forget()
        return WorkerDied(death)

    def _forget(self) -> None:
        """Out of the line for the cores, once the process is gone (it may have died holding them)."""
        if self.turns is not None and not self.process.is_alive():
            self.turns.forget(self.process.pid)

    def finish(self, timeout_s: float) -> bool:
        """Read and drop what a job abandoned by its reader still says, until it ends; False if it did not in time."""
        try:
            while self._conn.poll(timeout_s):
                kind, _ = self._conn.recv()
                if kind != "events":
                    self.busy = False
                    return True
        except (EOFError, OSError):
            pass
        return False

    def death(self) -> str:
        """Why the process ended, in words."""
        self.process.join(2)
        code = self.process.exitcode
        if code is None:
            return "the training process stopped answering"
        if code < 0:
            name = signal.Signals(-code).name
            hint = " (what the system does when it runs out of memory)" if name == "SIGKILL" else ""
            return f"the training process was killed by {name}{hint}"
        return f"the training process exited with code {code}"

    def close(self) -> None:
        """Ask the process to exit (it frees all its memory), or end it."""
        try:
            self._conn.send(None)
        except OSError:
            pass
        self.process.join(5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(5)
        self._forget()
        self._conn.close()


class JobRun:
    """One job on a worker, as the session sees it: its events, and a way to stop it."""

    def __init__(self, pool: WorkerPool, worker: Worker, job: Job, on_cpu: bool):
        self._pool, self._worker, self._job, self._on_cpu = pool, worker, job, on_cpu
        self.stop_event: Stop = worker.stop
        self.pid = worker.process.pid
        self.threads = worker.threads

    def events(self) -> Generator[Any, None, Any]:
        """The job's events (None: a quiet moment); returns its result. Closing it early stops the job."""
        try:
            return (yield from self._worker.run(self._job, on_cpu=self._on_cpu))
        finally:
            self._pool._done(self._worker)


class WorkerPool:
    """Worker processes for one app: one kept warm, one more for each run that trains at the same time (on the CPU
    they take turns on all the ``cores``); a worker left over when runs end waits ``linger_s`` for the next before it
    exits (starting one costs a second or two of CPU)."""

    def __init__(self, keep_idle: int = 1, cores: int | None = None, linger_s: float = LINGER_S):
        self.keep_idle, self.linger_s = keep_idle, linger_s
        self.cores = cores or torch.get_num_threads()
        self.turns = CoreTurns(SPAWN)
        self._idle: list[Worker] = []
        self._busy: list[Worker] = []
        self._lock = threading.Lock()

    def warm(self) -> None:
        """Spawn a worker now, in the background, so the first run need not wait for one to start."""

        def spawn() -> None:
            worker = Worker(self.cores, self.turns)
            with self._lock:
                if len(self._idle) < self.keep_idle:
                    self._idle.append(worker)
                    return
            worker.close()

        threading.Thread(target=spawn, name="cnn_lab-warm-worker", daemon=True).start()

    def start(self, job: Job, on_cpu: bool = True) -> JobRun:
        """Run ``job`` on an idle worker (or a new one); ``on_cpu``: it takes turns on the cores with the others."""
        with self._lock:
            worker = next((w for w in self._idle if w.alive), None)
            self._idle = [w for w in self._idle if w.alive and w is not worker]
        worker = worker or Worker(self.cores, self.turns)
        worker.stop.clear()
        with self._lock:
            self._busy.append(worker)
        return JobRun(self, worker, job, on_cpu)

    def _done(self, worker: Worker) -> None:
        """A job ended (or its reader left: it is stopped and waited out): the worker waits for the next, or goes
        when enough are waiting."""
        if worker.busy:
            worker.stop.set()
            threading.Thread(target=self._settle, args=(worker,), name="cnn_lab-settle", daemon=True).start()
        else:
            self._settle(worker)

    def _settle(self, worker: Worker) -> None:
        healthy = worker.alive and (not worker.busy or worker.finish(timeout_s=60))
        with self._lock:
            self._busy.remove(worker)
            keep = healthy and (len(self._idle) < self.keep_idle or self.linger_s > 0)
            if keep:
                self._idle.append(worker)
        if keep and len(self._idle) > self.keep_idle:
            retire = threading.Timer(self.linger_s, self._retire, (worker,))
            retire.daemon = True
            retire.start()
        if not keep:
            worker.close()

    def _retire(self, worker: Worker) -> None:
        """A lingering worker still idle, with enough others waiting: it exits, its memory back to the system."""
        with self._lock:
            if worker not in self._idle or len(self._idle) <= self.keep_idle:
                return
            self._idle.remove(worker)
        worker.close()

    @property
    def processes(self) -> list[int]:
        """Process ids of the idle workers."""
        with self._lock:
            return [w.process.pid for w in self._idle if w.alive]

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.close()
