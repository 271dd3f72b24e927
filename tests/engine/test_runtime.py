"""Where the work runs: the precision "auto" picks must follow what the process may use, not only the CPU's flags."""

from __future__ import annotations

import pytest
import torch

from cnn_lab.engine import runtime


@pytest.mark.parametrize(
    "variable, value",
    [("ONEDNN_MAX_CPU_ISA", "AVX2"), ("ONEDNN_MAX_CPU_ISA", "avx512_core"), ("ATEN_CPU_CAPABILITY", "avx2")],
)
def test_a_capped_instruction_set_trains_in_fp32_even_on_a_bf16_cpu(monkeypatch, variable, value):
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: True)
    monkeypatch.setenv(variable, value)
    assert not runtime.cpu_has_fast_bf16()
    assert runtime.resolve_precision("auto", torch.device("cpu")) == torch.float32


def test_a_bf16_cpu_without_a_cap_trains_in_bf16(monkeypatch):
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: True)
    monkeypatch.delenv("ATEN_CPU_CAPABILITY", raising=False)
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX512_CORE_BF16")  # a cap at bf16 itself keeps it
    assert runtime.resolve_precision("auto", torch.device("cpu")) == torch.bfloat16


def test_a_cpu_without_bf16_trains_in_fp32(monkeypatch):
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False)
    assert runtime.resolve_precision("auto", torch.device("cpu")) == torch.float32
    assert runtime.resolve_precision("bf16", torch.device("cpu")) == torch.bfloat16  # asked for, given
