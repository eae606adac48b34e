"""Attention benchmark pieces that run without a GPU: config labels, --extra-config, ptxas version, speedups
against Flex's faster backend, the baselines' skip reasons, the backward bench's Flex criterion."""
import argparse
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from kernelwright.bench import attention as bench

PROBLEMS = Path(__file__).resolve().parent.parent / "problems" / "attention"

DENSE = {"BLOCK_M": 128, "BLOCK_N": 64, "num_warps": 8, "num_stages": 3, "LAZY": False, "PIPE_QK": False,
         "TMA": False, "WS": False}


def test_config_tag_names_kind_tiles_and_flags():
    assert bench.config_tag(DENSE) == "ptr128x64w8s3"
    assert bench.config_tag({**DENSE, "TMA": True, "POLY_EXP": 8}) == "tma128x64w8s3E8"
    assert bench.config_tag({**DENSE, "TMA": True, "WS": True, "LAZY": True}) == "ws128x64w8s3L"


def test_extra_config_takes_a_json_object_and_refuses_anything_else():
    assert bench.config_arg('{"BLOCK_M": 64, "WS": true}') == {"BLOCK_M": 64, "WS": True}
    with pytest.raises(argparse.ArgumentTypeError, match="not JSON"):
        bench.config_arg("{BLOCK_M: 64}")
    with pytest.raises(argparse.ArgumentTypeError, match="expected a JSON object"):
        bench.config_arg("[64, 64]")


def test_ptxas_version_reads_the_wheel_ptxas_or_the_override(monkeypatch, tmp_path):
    monkeypatch.delenv("TRITON_PTXAS_PATH", raising=False)
    assert re.match(r"\d+\.\d+\.\d+ \(.*ptxas\)$", bench.ptxas_version()), bench.ptxas_version()
    missing = tmp_path / "no-ptxas"
    monkeypatch.setenv("TRITON_PTXAS_PATH", str(missing))
    assert bench.ptxas_version().startswith(f"unknown ({missing}")


def test_dtype_switch_gives_float16_problems():
    import torch

    fp16 = bench.problem_for(PROBLEMS, "causal", "fp16")
    assert fp16.module({"S": 8}).get_inputs()[0].dtype == torch.float16
    assert bench.problem_for(PROBLEMS, "causal").module({"S": 8}).get_inputs()[0].dtype == torch.bfloat16
    assert fp16.name == bench.problem_for(PROBLEMS, "causal").name


def test_backward_bench_accepts_a_gradient_miss_only_within_flexs_own_miss():
    def grads(dk_ok, dk_err):
        return {"dq": {"ok": True, "max_abs_err": 0.03}, "dk": {"ok": dk_ok, "max_abs_err": dk_err}}

    flex_missed = grads(False, 0.3125)  # the H100 relpos figures of BENCHMARKS.md
    assert bench.within_flex(grads(False, 0.25), flex_missed)
    assert bench.within_flex(grads(True, 0.01), grads(True, 0.01))
    assert not bench.within_flex(grads(False, 0.25), grads(True, 0.01))  # Flex passes: our miss is ours
    assert not bench.within_flex(grads(False, 0.7), flex_missed)  # beyond FLEX_SLACK x Flex's error


def test_speedups_are_stated_against_flexs_faster_backend():
    row = bench.with_ratios({"kernelwright_ms": 2.0, "flex_ms": 3.0, "flex_flash_ms": 2.5, "fa4_ms": 1.0,
                             "sdpa_ms": 2.2}, target=1.2)
    assert row["flex_best"] == "FLASH" and row["x_flex_best"] == 1.25 and row["x_flex"] == 1.5
    assert row["x_fa4"] == 0.5 and row["x_sdpa"] == 1.1 and row["target_x_flex"] == 1.2
    # the FLASH backend could not run this variant: the Triton backend is the anchor, and the table says so
    row = bench.with_ratios({"kernelwright_ms": 2.0, "flex_ms": 3.0}, target=2.0)
    assert row["flex_best"] == "Triton" and row["x_flex_best"] == 1.5
    env = {"gpu": "H100", "torch": "2.11", "triton": "3.6", "date_utc": "now", "command": "x"}
    table = bench.markdown([{**row, "variant": "neighborhood_2d", "B": 4, "H": 16, "S": 4096, "D": 128}], env)
    assert "| 1.50 vs Triton (2.0) |" in table
    assert "x best Flex" in table and "FA4 ms" in table


def test_flash_attention_4_baselines_skip_with_a_reason_where_they_cannot_run():
    import torch

    from kernelwright.bench import attention_baselines as baselines
    q = torch.zeros(1, 2, 8, 16)
    with pytest.raises(baselines.Skip, match="plain and causal only"):
        baselines.fa4("softcap", q, q, q)
    if baselines.fa4_installed():
        pytest.skip("flash-attn-4 is installed here; the not-installed reasons do not apply")
    with pytest.raises(baselines.Skip, match="flash-attn-4 not installed .*scripts/pack_fa4.sh"):
        baselines.fa4("causal", q, q, q)
    module = SimpleNamespace(score_mod=None, mask_mod=None)
    with pytest.raises(baselines.Skip, match="FLASH backend needs flash-attn-4"):
        baselines.flex(module, q, q, q, backend="FLASH")


def test_fa4_baseline_passes_its_layout_and_takes_repeated_backward_passes(monkeypatch):
    import sys

    import torch
    import torch.nn.functional as F

    from kernelwright.bench import attention_baselines as baselines

    def flash_attn_func(q, k, v, causal=False):  # FA4's contract: (B, S, H, D) in, (out, lse) out
        out = F.scaled_dot_product_attention(*(x.transpose(1, 2) for x in (q, k, v)), is_causal=causal)
        return out.transpose(1, 2), None

    cute = SimpleNamespace(flash_attn_func=flash_attn_func)
    monkeypatch.setitem(sys.modules, "flash_attn", SimpleNamespace(cute=cute))
    monkeypatch.setitem(sys.modules, "flash_attn.cute", cute)
    q, k, v = (torch.randn(2, 3, 16, 8, requires_grad=True) for _ in range(3))
    run = baselines.fa4("causal", q, k, v)
    assert torch.allclose(run(), F.scaled_dot_product_attention(q, k, v, is_causal=True), atol=1e-6)
    grad = torch.randn(2, 3, 16, 8)
    first = torch.autograd.grad(run(), (q, k, v), grad)
    second = torch.autograd.grad(run(), (q, k, v), grad)  # a timed loop repeats forward + backward
    assert all(torch.equal(a, b) for a, b in zip(first, second))


def test_flex_baseline_fails_instead_of_timing_the_unfused_fallback(monkeypatch):
    """Past dynamo's recompile limit, flex_attention runs its unfused eager form; a backward bench of five
    variants in one process timed that as Flex (~100 ms against ~4 ms). The baseline makes it an error."""
    import torch
    import torch._dynamo.config as dynamo_config

    from kernelwright.bench import attention_baselines as baselines

    monkeypatch.setattr(dynamo_config, "fail_on_recompile_limit_hit", False)
    q = torch.zeros(1, 1, 16, 8)
    baselines.flex(SimpleNamespace(score_mod=None, mask_mod=None), q, q, q)
    assert dynamo_config.fail_on_recompile_limit_hit is True
