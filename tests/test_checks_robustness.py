"""Robustness trials for every problem (issue 16, item 1): scaled and shifted inputs, judged against
the float64 reference with a tolerance relative to eager PyTorch's own error."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
from kernelwright.verifier import inputs, robustness
from kernelwright.verifier.problem import load_problem

import kernelwright

ROOT = Path(__file__).resolve().parents[1]
CHEATS = ROOT / "tests" / "cheats"
CANDIDATES = ROOT / "problems" / "candidates"
ANNOTATIONS = re.compile(
    r"^(LARGE_MAGNITUDE|LARGE_MAGNITUDE_ATOL|SHIFT_MAGNITUDE|SHIFT_MAGNITUDE_ATOL|EXTRA_SHAPES)\b.*$", re.MULTILINE)


def unannotated(name: str) -> str:
    """A suite problem's source without its robustness metadata (nor extra shapes, to keep the test short)."""
    return ANNOTATIONS.sub("", (ROOT / "problems" / f"{name}.py").read_text())


def test_every_floating_problem_gets_both_trials_by_default():
    problem = load_problem(unannotated("layernorm"))
    plan = inputs.plan_trials(problem, trials=5, extra_shapes=False, large_magnitude=True, small=True)
    robust = [(s.kind, s.scale, s.shift) for s in plan if s.kind in robustness.KINDS]
    assert robust == [("large_magnitude", 100.0, None), ("shifted", None, 1000.0)]


def test_metadata_tunes_or_switches_the_trials_off():
    source = unannotated("layernorm")
    tuned = load_problem(source + "\nLARGE_MAGNITUDE = 10.0\nSHIFT_MAGNITUDE = 50.0\n")
    off = load_problem(source + "\nLARGE_MAGNITUDE = None\nSHIFT_MAGNITUDE = None\n")

    def kinds(p):
        return [(s.kind, s.scale or s.shift) for s in inputs.plan_trials(
            p, trials=5, extra_shapes=False, large_magnitude=True, small=True) if s.kind != "random"]

    assert kinds(tuned) == [("large_magnitude", 10.0), ("shifted", 50.0)]
    assert kinds(off) == []


def test_integer_only_problems_get_no_robustness_trial():
    source = ("import torch, torch.nn as nn\nclass Model(nn.Module):\n    def forward(self, x):\n        return x + 1\n"
              "def get_inputs():\n    return [torch.randint(0, 9, (64,))]\ndef get_init_inputs():\n    return []\n")
    plan = inputs.plan_trials(load_problem(source), trials=5, extra_shapes=False, large_magnitude=True, small=True)
    assert [s.kind for s in plan] == ["random"] * 5


def test_tolerance_follows_eager_and_skips_where_eager_fails():
    exact = torch.arange(1.0, 101.0, dtype=torch.float64)
    eager = exact.float().clone()
    eager[-1] += 2e-3  # within 100x the float32 tolerance, beyond the ordinary one
    close = robustness.judge_against_eager([eager], [exact], [torch.float32], {})
    factor = robustness.ERROR_FACTOR
    assert not close.skipped and close.tolerances[0].atol == pytest.approx(factor * 2e-3, rel=1e-3)
    rel_norm = factor * 2e-3 / float(exact.norm())
    assert close.tolerances[0].rtol == 1e-4 and close.tolerances[0].rel_norm == pytest.approx(rel_norm, rel=1e-2)
    ref = [torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)]
    overflow = robustness.judge_against_eager([torch.tensor([1.0, float("inf"), 3.0])], ref, [torch.float32], {})
    assert overflow.skipped.startswith("skipped: eager float32 gives NaN/Inf")
    off = robustness.judge_against_eager([torch.tensor([1.0, 2.5, 3.0])], ref, [torch.float32], {})
    assert "misses 100x the tolerance" in off.skipped


def test_softmax_without_max_subtraction_fails_on_an_unannotated_problem():
    verdict = kernelwright.verify(unannotated("softmax"), CHEATS / "large_magnitude.py", device="cpu")
    assert verdict.status == "incorrect" and verdict.rule in ("large_magnitude", "shifted"), verdict.summary()
    assert {"large_magnitude", "nan_inf"} <= set(verdict.flags)


def test_one_pass_layernorm_fails_the_shifted_trial_on_an_unannotated_problem():
    verdict = kernelwright.verify(unannotated("layernorm"), CHEATS / "shifted.py", device="cpu")
    assert verdict.status == "incorrect" and verdict.rule == "shifted", verdict.summary()
    assert all(t.passed for t in verdict.trials if t.kind in ("random", "large_magnitude")), verdict.trials


@pytest.mark.parametrize("name", ["softmax", "layernorm", "rmsnorm", "logsumexp", "gelu_bias", "swish_scale",
                                  "matmul_bias_relu", "attention_small"])
def test_honest_kernel_passes_the_default_trials_on_an_unannotated_problem(name):
    verdict = kernelwright.verify(unannotated(name), CANDIDATES / f"{name}__triton.py", device="cpu")
    assert verdict.status == "correct" and verdict.flags == [], verdict.summary()
    kinds = {t.kind: t for t in verdict.trials}
    assert {"large_magnitude", "shifted"} <= set(kinds)
    for kind in ("large_magnitude", "shifted"):  # judged, or skipped with the reason in the verdict
        assert kinds[kind].passed and (not kinds[kind].skipped or kinds[kind].note), kinds[kind]


NAIVE_FLOAT16 = (CHEATS / "large_magnitude.py").read_text().replace(
    "x = tl.load(x_ptr + row * n_cols + cols, mask=mask, other=-float(\"inf\"))",
    "x = tl.load(x_ptr + row * n_cols + cols, mask=mask, other=-float(\"inf\")).to(tl.float32)")


def test_a_skipped_trial_says_why_in_the_verdict():
    half = unannotated("softmax").replace("torch.randn(ROWS, COLS)", "torch.randn(ROWS, COLS).half()")
    half = half.replace("return torch.softmax(x, dim=-1)", "return torch.exp(x) / torch.exp(x).sum(-1, keepdim=True)")
    assert ".to(tl.float32)" in NAIVE_FLOAT16
    verdict = kernelwright.verify(half, NAIVE_FLOAT16, device="cpu", extra_shapes=False)
    scaled = next(t for t in verdict.trials if t.kind == "large_magnitude")  # exp(100 x) overflows float16
    assert scaled.skipped and "eager float16 gives NaN/Inf" in scaled.note, scaled
    assert verdict.status == "correct", verdict.summary()  # a skipped trial fails no one
