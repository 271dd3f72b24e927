"""A page's run on several processes of this machine (`cnn-lab serve --train-processes N`): DDP without torchrun.

The worker process that runs the job becomes rank 0 of a process group on 127.0.0.1, and N-1 helper processes
(`python -m cnn_lab.engine.local_group`, started for the run and gone with it) join as the other ranks: each reads the job
from a file rank 0 wrote, trains its share of every batch (training.py, DDP) and says nothing; rank 0 relays the
events as in a run of one process. A stop, or a server's time limit, reaches every rank at the next step (training
sums a stop flag over the group with each step's loss), so the group ends together.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import torch
import torch.distributed as dist

GROUP_TIMEOUT_S = 120  # a collective that waits longer than this for a rank that died fails the run, not the server
HOST = "127.0.0.1"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _join(port: int, rank: int, world: int) -> None:
    dist.init_process_group(
        "gloo", init_method=f"tcp://{HOST}:{port}", rank=rank, world_size=world,
        timeout=timedelta(seconds=GROUP_TIMEOUT_S),
    )  # fmt: skip


@contextmanager
def local_group(job: object, processes: int) -> Iterator[None]:
    """This process as rank 0 of ``processes`` on this machine, the others started for ``job`` and waited for after.

    The cores are split between them: this process takes its share, each helper its own."""
    port = _free_port()
    threads = max(1, torch.get_num_threads() // processes)
    with tempfile.TemporaryDirectory(prefix="cnn_lab_group_") as folder:
        job_file = Path(folder) / "job.pt"
        torch.save(job, job_file)
        env = dict(os.environ, OMP_NUM_THREADS=str(threads))  # torch's thread count in each helper
        helpers = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "cnn_lab.engine.local_group",
                    str(port),
                    str(rank),
                    str(processes),
                    str(job_file),
                ],
                env=env,
            )
            for rank in range(1, processes)
        ]
        before = torch.get_num_threads()
        torch.set_num_threads(threads)
        try:
            _join(port, 0, processes)
            yield
        finally:
            if dist.is_initialized():
                dist.destroy_process_group()
            torch.set_num_threads(before)
            for helper in helpers:
                try:
                    helper.wait(timeout=GROUP_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    helper.kill()


def _helper(port: int, rank: int, world: int, job_file: str) -> None:
    """One helper rank: the job as rank 0 wrote it, trained in step with the group; its events go nowhere."""
    job = torch.load(job_file, weights_only=False)
    _join(port, rank, world)
    try:
        for _ in job.group_events(threading.Event()):
            pass
    finally:
        dist.destroy_process_group()


if __name__ == "__main__":
    _helper(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
