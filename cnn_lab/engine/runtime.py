"""Where the work runs: device and precision choice, and a faster allocator set-up on glibc."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

import torch

from cnn_lab.core.config import ConfigError
from cnn_lab.core.errors import quoted

_M_TRIM_THRESHOLD = -1  # glibc mallopt parameter numbers (malloc.h)
_M_MMAP_THRESHOLD = -3
_ALLOCATOR_TUNED = False


def tune_allocator(threshold_bytes: int = 1 << 30) -> bool:
    """Keep freed activation buffers in the heap instead of returning them to the OS.

    glibc hands every allocation above 128 KiB straight to mmap and unmaps it on
    free, so each training step page-faults tens of MB afresh (1.3-1.7x slower
    here). Raising both thresholds lets the buffers be reused. Returns whether
    it applied (only on glibc).
    """
    global _ALLOCATOR_TUNED
    if _ALLOCATOR_TUNED:
        return True
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False  # musl or another libc without mallopt
    _ALLOCATOR_TUNED = bool(mallopt(_M_MMAP_THRESHOLD, threshold_bytes)) and bool(
        mallopt(_M_TRIM_THRESHOLD, threshold_bytes)
    )
    return _ALLOCATOR_TUNED


def release_memory() -> bool:
    """Give the heap's free memory back to the OS (glibc's malloc_trim), which tune_allocator's thresholds keep.

    Called when a training process finishes a job: the next one may be
    hours away. Returns whether it applied (only on glibc)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(libc.malloc_trim(0))
    except (OSError, AttributeError):
        return False


def available_devices() -> list[str]:
    devices = ["cpu"]
    if torch.cuda.is_available():
        devices.insert(0, "cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        devices.insert(0, "mps")
    return devices


def resolve_device(choice: str = "auto") -> torch.device:
    """CUDA, then MPS, then CPU for "auto"; a named device that is missing is refused."""
    available = available_devices()
    if choice == "auto":
        for name in ("cuda", "mps", "cpu"):
            if name in available:
                return torch.device(name)
    if choice not in available:
        raise ConfigError(
            f"device {quoted(choice)} is not available here; available: auto, {', '.join(available)}", "device"
        )
    return torch.device(choice)


# oneDNN instruction sets (ONEDNN_MAX_CPU_ISA) below AVX512_CORE_BF16: capped there, bf16 runs emulated
_ISAS_WITHOUT_BF16 = ("SSE41", "AVX", "AVX2", "AVX2_VNNI", "AVX2_VNNI_2", "AVX512_CORE", "AVX512_CORE_VNNI")


def cpu_has_fast_bf16() -> bool:
    """True when the CPU multiplies bf16 natively (AMX or AVX512-BF16) and the process may use it; elsewhere bf16
    is emulated and slower. ONEDNN_MAX_CPU_ISA or ATEN_CPU_CAPABILITY capping the instruction set below that (as on a
    host that pins kernels, or the benchmarks' AVX2 emulation) counts as not having it."""
    if os.environ.get("ONEDNN_MAX_CPU_ISA", "").upper() in _ISAS_WITHOUT_BF16:
        return False
    if os.environ.get("ATEN_CPU_CAPABILITY", "").lower() in ("default", "avx2"):
        return False
    return bool(torch.cpu._is_amx_tile_supported() or torch.cpu._is_avx512_bf16_supported())


def resolve_precision(choice: str, device: torch.device) -> torch.dtype:
    """bf16 for "auto" where the hardware has fast bf16, fp32 otherwise."""
    if choice == "fp32":
        return torch.float32
    if choice == "bf16":
        return torch.bfloat16
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float32
    if device.type == "cpu":
        return torch.bfloat16 if cpu_has_fast_bf16() else torch.float32
    return torch.float32


def precision_name(dtype: torch.dtype) -> str:
    return {torch.float32: "fp32", torch.bfloat16: "bf16"}[dtype]


def device_label(device: torch.device) -> str:
    """What the UI shows, e.g. "CPU (2 threads)" or "CUDA (NVIDIA H100)"."""
    if device.type == "cuda":
        return f"CUDA ({torch.cuda.get_device_name(device)})"
    if device.type == "mps":
        return "MPS (Apple GPU)"
    threads = torch.get_num_threads()
    return f"CPU ({threads} thread{'s' if threads != 1 else ''})"
