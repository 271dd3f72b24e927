"""More than one process training one run: PyTorch's own DistributedDataParallel, started by torchrun.

`torchrun --nproc_per_node N -m cnn_lab train SETUP.json` starts N copies of the command with RANK, WORLD_SIZE,
LOCAL_RANK and a rendezvous in their environment; `join()` turns that into a process group (gloo on CPU, nccl on
CUDA, one GPU per process) and the engine (training.py) then trains each model wrapped in DistributedDataParallel:
every process takes its share of each batch, and their gradients are averaged before each update, so every copy
of a model stays the same. A run without torchrun is a group of one, and none of this applies.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from cnn_lab.core.config import ConfigError


@dataclass(frozen=True)
class Group:
    """This process's place in the run: its rank among ``world`` processes, and the device it trains on."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def leader(self) -> bool:
        """The one process that writes: events to the terminal, the history, the report and the model files."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world > 1


def launched_by_torchrun() -> bool:
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def join(device: str = "auto") -> Group:
    """Join the process group torchrun set up (nothing to join without it). On CUDA each process takes the GPU of its
    local rank, and nccl; otherwise gloo, with this machine's cores split between the processes on it."""
    if not launched_by_torchrun():
        return Group()
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    local_world = int(os.environ.get("LOCAL_WORLD_SIZE", os.environ.get("WORLD_SIZE", "1")))
    use_cuda = device in ("auto", "cuda") and torch.cuda.is_available()
    if use_cuda:
        if local_rank >= torch.cuda.device_count():  # nccl takes one GPU per process
            raise ConfigError(
                f"this machine has {torch.cuda.device_count()} GPU(s) for {local_world} processes: start at most one "
                "process per GPU (torchrun --nproc_per_node), or train on the CPU with --device cpu",
                "processes",
            )
        torch.cuda.set_device(local_rank)
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if use_cuda else "gloo")
    if not use_cuda and "OMP_NUM_THREADS" not in os.environ:  # torchrun sets it to 1; a plain start may not
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // local_world))
    return Group(dist.get_rank(), dist.get_world_size(), local_rank)


def current() -> Group:
    """The group this process trains in now (a group of one when none was joined)."""
    if not (dist.is_available() and dist.is_initialized()):
        return Group()
    return Group(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))


def leave() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
