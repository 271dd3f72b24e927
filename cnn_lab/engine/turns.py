"""Runs on a CPU take turns on all of its cores instead of splitting them between them.

Why: a run's numbers depend on how many threads its kernels split their sums
over (oneDNN's weight gradients; bf16 most of all). Measured here (seed 0,
5,000 images, bf16): A 93.40 / B 78.50 % on 1 thread, 93.55 / 78.00 % on 2.
While the pool split the cores between the runs training at once, a seeded
run's curves depended on who else was training. Taking turns, every run
always trains on all the cores, so a setup and seed give the same numbers
alone or beside others, and OpenMP threads never outnumber the cores (two runs
of 2 threads at once on 2 cores ran 3-6x slower than one after the other).
Measured (benchmarks/concurrent_runs.py): two runs at once by turns take 1.1-1.2x
the time of one after the other; split 1 thread each, 0.88x, with other numbers.
A run holds the cores for a slice and passes them on between two batches when
another run waits; the run that has waited longest goes next. The state lives
in shared memory, so worker processes and threads of one process can share it;
a process that dies holding or awaiting the cores is forgotten by its pool.
"""

from __future__ import annotations

import time
from multiprocessing.context import BaseContext

SLICE_S = 0.1  # how long a run keeps the cores while another waits: switching costs about a batch's warm-up
SLOTS = 64  # runs that may wait at once (a server's training slots are far fewer)
_HOLDER, _NEXT = 0, 1  # the array's first two cells: who holds the cores (0: nobody), the next place in the line
_WAIT_S = 0.5  # a waiter looks again this often even unwoken (a notify lost to a dying process)


class CoreTurns:
    """The line for the cores, shared by the runs of one pool. ``who`` is any nonzero id unique among the runs
    (a worker's process id)."""

    def __init__(self, context: BaseContext, slice_s: float = SLICE_S):
        self.slice_s = slice_s
        self._changed = context.Condition()
        # [holder, next place, then SLOTS pairs of (who, place) for the runs waiting; who 0: a free slot]
        self._state = context.RawArray("q", 2 + 2 * SLOTS)

    def take(self, who: int) -> None:
        """Wait in line for the cores, then hold them."""
        with self._changed:
            s = self._state
            if s[_HOLDER] == 0 and not self._waiting():
                s[_HOLDER] = who
                return
            slot = self._join(who)
            place = s[slot + 1]
            while not (s[_HOLDER] == 0 and place == min(self._waiting())):
                self._changed.wait(_WAIT_S)
            s[slot] = s[slot + 1] = 0
            s[_HOLDER] = who

    def give(self, who: int) -> None:
        """Let go of the cores (when ``who`` holds them) and wake the line."""
        with self._changed:
            if self._state[_HOLDER] == who:
                self._state[_HOLDER] = 0
                self._changed.notify_all()

    def forget(self, who: int) -> None:
        """``who`` is gone (its process died): it neither holds the cores nor waits for them any more."""
        with self._changed:
            s = self._state
            for slot in range(2, len(s), 2):
                if s[slot] == who:
                    s[slot] = s[slot + 1] = 0
            if s[_HOLDER] == who:
                s[_HOLDER] = 0
            self._changed.notify_all()

    def someone_waits(self) -> bool:
        """Whether a run waits in line (read without the lock: a moment's error costs one slice)."""
        return any(self._state[slot] for slot in range(2, len(self._state), 2))

    @property
    def holder(self) -> int:
        return self._state[_HOLDER]

    def _waiting(self) -> dict[int, int]:
        """{place in line: who} of the runs waiting (the lock held)."""
        s = self._state
        return {s[slot + 1]: s[slot] for slot in range(2, len(s), 2) if s[slot]}

    def _join(self, who: int) -> int:
        """Take the next place in line; the slot it is written in (the lock held)."""
        s = self._state
        slot = next((i for i in range(2, len(s), 2) if s[i] == 0), None)
        if slot is None:
            raise RuntimeError(f"more than {SLOTS} runs wait for the cores")
        s[_NEXT] += 1
        s[slot], s[slot + 1] = who, s[_NEXT]
        return slot


class Turn:
    """One run's use of the line: it holds the cores while it computes, and passes them on between batches once it
    has had its slice and another run waits. Counts how long it waited."""

    def __init__(self, turns: CoreTurns, who: int):
        self._turns, self._who = turns, who
        self._since = 0.0
        self.waited_s = 0.0

    def take(self) -> None:
        started = time.perf_counter()
        self._turns.take(self._who)
        self._since = time.perf_counter()
        self.waited_s += self._since - started

    def between_batches(self) -> None:
        """Pass the cores on when this run has had its slice and another waits; back in line behind it."""
        if time.perf_counter() - self._since >= self._turns.slice_s and self._turns.someone_waits():
            self._turns.give(self._who)
            self.take()

    def give(self) -> None:
        self._turns.give(self._who)
