"""What a benchmark ran on, recorded next to its numbers."""

from __future__ import annotations

import os
import platform
import subprocess

import torch


def machine() -> dict:
    model = platform.processor()
    try:
        model = next(
            line.split(":", 1)[1].strip()
            for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines()
            if line.startswith("Model name")
        )
    except (OSError, StopIteration):
        pass
    return {"cpu": model, "cores": os.cpu_count(), "torch_threads": torch.get_num_threads(), "torch": torch.__version__}
