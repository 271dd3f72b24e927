"""What a benchmark ran on, recorded next to its numbers: the CPU, its vector features, and the precision the page
would choose there."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

import torch

from cnn_lab.engine.runtime import precision_name, resolve_precision

# The environment that makes this machine's kernels those of a CPU with AVX2 only (no AVX-512, no fast bf16): ATen's
# own vector code, oneDNN's convolutions and MKL's products all stop at AVX2. Not an AVX2 machine (its clock, caches
# and memory stay), but its instruction set.
AVX2_ONLY = {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_ENABLE_INSTRUCTIONS": "AVX2"}


def cpu_features() -> dict:
    flags: set[str] = set()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                break
    return {
        "avx2": "avx2" in flags,
        "avx512f": "avx512f" in flags,
        "avx512_bf16": "avx512_bf16" in flags,
        "amx": sorted(f for f in flags if f.startswith("amx")),
    }


def isa_limit() -> str | None:
    """ "avx2" when this process runs under AVX2_ONLY (the emulation), else None (the CPU's own instruction set)."""
    return "avx2" if all(os.environ.get(k) == v for k, v in AVX2_ONLY.items()) else None


def machine_class() -> str:
    """The row of the Performance table a figure belongs to: "amx", "avx512_bf16", "avx512", "avx2" or
    "avx2 (emulated on <the real class>)"."""
    features = cpu_features()
    real = (
        "amx"
        if features["amx"]
        else "avx512_bf16"
        if features["avx512_bf16"]
        else "avx512"
        if features["avx512f"]
        else "avx2"
    )
    return f"avx2 (emulated on {real})" if isa_limit() and real != "avx2" else real


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
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        **cpu_features(),
        "class": machine_class(),
        "precision_auto": precision_name(resolve_precision("auto", torch.device("cpu"))),
    }
