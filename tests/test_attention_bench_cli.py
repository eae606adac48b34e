"""kernelwright/bench/attention.py pieces that run without a GPU: config labels, --extra-config, ptxas version."""
import argparse
import re
from pathlib import Path

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
    import importlib.util
    path = Path(__file__).resolve().parent.parent / "benchmarks" / "attention_backward_bench.py"
    spec = importlib.util.spec_from_file_location("kw_attention_backward_bench", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    def grads(dk_ok, dk_err):
        return {"dq": {"ok": True, "max_abs_err": 0.03}, "dk": {"ok": dk_ok, "max_abs_err": dk_err}}

    flex_missed = grads(False, 0.3125)  # the H100 relpos figures of BENCHMARKS.md
    assert module.within_flex(grads(False, 0.25), flex_missed)
    assert module.within_flex(grads(True, 0.01), grads(True, 0.01))
    assert not module.within_flex(grads(False, 0.25), grads(True, 0.01))  # Flex passes: our miss is ours
    assert not module.within_flex(grads(False, 0.7), flex_missed)  # beyond FLEX_SLACK x Flex's error
