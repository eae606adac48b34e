"""Policies: strict (every compute op in own kernels) and kernelbench (PyTorch may do parts)."""
from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import kernelwright
from kernelwright.cli import app

DATA = Path(__file__).parent / "data" / "policy"
PROBLEM = DATA / "conv_relu.py"


def verify(candidate: str, policy: str, problem: Path = PROBLEM, timing: bool = False):
    return kernelwright.verify(problem, DATA / candidate, device="cpu", timing=timing, baselines=(), policy=policy)


def test_torch_conv_left_in_pytorch_is_rejected_under_strict():
    verdict = verify("conv_relu__partial.py", "strict")
    assert (verdict.status, verdict.rule, verdict.policy) == ("rejected", "reference_ops", "strict")
    assert verdict.policies == {"strict": False, "kernelbench": None}  # stopped before kernelbench's checks


def test_torch_conv_left_in_pytorch_is_correct_under_kernelbench():
    verdict = verify("conv_relu__partial.py", "kernelbench")
    assert (verdict.status, verdict.policy) == ("correct", "kernelbench"), verdict.message
    assert "reference_ops" in verdict.flags and "convolution" in verdict.pytorch_ops
    assert verdict.policies == {"strict": False, "kernelbench": True}


@pytest.mark.parametrize("policy", ["strict", "kernelbench"])
def test_candidate_without_an_own_kernel_is_rejected_under_both(policy):
    verdict = verify("conv_relu__pytorch_only.py", policy)
    assert verdict.status == "rejected" and "no_kernel_launched" in verdict.flags, verdict.summary()
    assert verdict.policies["kernelbench"] is False


def test_honest_kernel_passes_both_policies():
    verdict = kernelwright.verify("problems/softmax.py", "problems/candidates/softmax__triton.py", device="cpu",
                                  timing=False, policy="kernelbench")
    assert verdict.status == "correct" and verdict.flags == []
    assert verdict.policies == {"strict": True, "kernelbench": True}


def test_pytorch_in_checked_calls_and_a_wrong_kernel_in_timed_calls_is_caught_under_kernelbench():
    cheat = "softmax__checked_by_pytorch.py"
    strict = verify(cheat, "strict", Path("problems/softmax.py"), timing=True)
    assert (strict.status, strict.rule) == ("rejected", "reference_ops")
    relaxed = verify(cheat, "kernelbench", Path("problems/softmax.py"), timing=True)
    assert (relaxed.status, relaxed.rule) == ("rejected", "timed_output"), relaxed.summary()
    assert relaxed.policies == {"strict": False, "kernelbench": False}


def test_unknown_policy_is_a_one_line_error_with_exit_2():
    result = CliRunner().invoke(app, ["verify", str(PROBLEM), str(DATA / "conv_relu__partial.py"), "--policy", "lax"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == ["error: --policy 'lax': choose one of strict, kernelbench"]


def test_unknown_policy_in_the_api_is_a_value_error():
    with pytest.raises(ValueError):
        kernelwright.verify(PROBLEM, DATA / "conv_relu__partial.py", device="cpu", policy="lax")


@pytest.mark.parametrize("argv", [["run", "problems/softmax.py", "--policy", "lax"],
                                  ["bench", "problems", "--policy", "lax"]])
def test_run_and_bench_refuse_an_unknown_policy_before_running(argv, tmp_path):
    extra = ["--artifacts", str(tmp_path)] + (["--db", str(tmp_path / "b.sqlite")] if argv[0] == "bench" else [])
    result = CliRunner().invoke(app, [*argv, *extra])
    assert result.exit_code == 2
    assert result.output.strip().splitlines()[-1] == "error: --policy 'lax': choose one of strict, kernelbench"
    assert not (tmp_path / "b.sqlite").exists()
