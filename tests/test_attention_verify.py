"""Rendered attention kernels are judged by the real verifier (CPU interpreter, small ragged shapes),
and the block-skipping paths are checked directly against the reference at longer sequences."""
import os
from pathlib import Path

import pytest
import torch
from kernelwright.agents.coder import CodeRequest
from kernelwright.agents.templates.attention.family import AttentionFamily
from kernelwright.verifier.problem import exec_source, load_problem

import kernelwright

PROBLEMS = Path(__file__).resolve().parent.parent / "problems" / "attention"
VARIANTS = ["plain", "causal", "relpos", "relpos_causal", "alibi", "sliding_window", "neighborhood_2d",
            "softcap", "document_causal", "alibi_learned"]
FAMILY = AttentionFamily()


def triton_configs(request: CodeRequest) -> list[dict]:
    """The Triton configs (on an H100 the family offers its CUDA kernel first; these tests run the CPU)."""
    return [c for c in FAMILY.configs(request) if c.get("BACKEND") != "cuda"]


def request_for(variant: str) -> CodeRequest:
    problem = load_problem(PROBLEMS / f"{variant}.py")
    return CodeRequest(problem_source=problem.source, problem_name=problem.name, description=problem.description,
                       metadata=problem.metadata, strategy="tune_launch_config")


@pytest.mark.parametrize("index", [0, 1])
@pytest.mark.parametrize("variant", VARIANTS)
def test_rendered_kernel_verifies_correct(variant, index):
    request = request_for(variant)
    config = triton_configs(request)[index]
    verdict = kernelwright.verify(PROBLEMS / f"{variant}.py", FAMILY.render(request, config), device="cpu")
    assert verdict.status == "correct", f"{variant} {config}: {verdict.status} {verdict.rule} {verdict.message}"
    kinds = {t.kind for t in verdict.trials}
    assert {"random", "extra_shape"} <= kinds


def test_kernel_without_the_bias_is_judged_incorrect():
    wrong = FAMILY.render(request_for("causal"), triton_configs(request_for("causal"))[0])
    verdict = kernelwright.verify(PROBLEMS / "relpos_causal.py", wrong, device="cpu")
    assert verdict.status == "incorrect"


# Longer sequences exercise the unmasked middle tiles and the skipped ranges (SMALL_SHAPE has one block).
LONG_CASES = [
    ("causal", {"S": 333}, 0), ("causal", {"S": 512}, 2),
    ("sliding_window", {"S": 600, "WINDOW": 100}, 0), ("sliding_window", {"S": 517, "WINDOW": 64}, 3),
    ("document_causal", {"S": 700}, 0), ("document_causal", {"S": 1000}, 3),
    ("relpos", {"S": 300}, 0), ("softcap", {"S": 300}, 0),
    ("neighborhood_2d", {"GRID_H": 20, "GRID_W": 23, "KERNEL": 7}, 0),
    ("neighborhood_2d", {"GRID_H": 12, "GRID_W": 9, "KERNEL": 13}, 4),
]


@pytest.mark.parametrize("variant, overrides, index", LONG_CASES)
def test_block_skipping_matches_reference_at_longer_sequences(variant, overrides, index):
    if os.environ.get("TRITON_INTERPRET") != "1":
        pytest.skip("runs the kernel in this process under the Triton interpreter (CPU hosts)")
    problem = load_problem(PROBLEMS / f"{variant}.py")
    request = request_for(variant)
    source = FAMILY.render(request, triton_configs(request)[index])
    module = problem.module({"B": 1, "H": 2, "D": 64, **overrides})
    torch.manual_seed(index)
    inputs, init = module.get_inputs(), module.get_init_inputs()
    expected = module.Model(*init)(*inputs).float()
    got = exec_source(source, f"kw_attn_long_{variant}_{index}", variant).ModelNew(*init)(*inputs).float()
    assert torch.isfinite(got).all()
    assert ((got - expected).abs() <= 2e-2 + 2e-2 * expected.abs()).all(), (got - expected).abs().max()


@pytest.mark.parametrize("variant", ["plain", "causal", "softcap", "neighborhood_2d"])
def test_rendered_kernel_verifies_correct_in_float16(variant):
    """The problems are bf16; the same rendered kernel must pass the float16 tolerances too."""
    source = (PROBLEMS / f"{variant}.py").read_text()
    assert "DTYPE = torch.bfloat16" in source
    fp16_problem = source.replace("DTYPE = torch.bfloat16", "DTYPE = torch.float16")
    request = request_for(variant)
    verdict = kernelwright.verify(fp16_problem, FAMILY.render(request, triton_configs(request)[0]), device="cpu")
    assert verdict.status == "correct", f"{variant} fp16: {verdict.status} {verdict.rule} {verdict.message}"
    # the verifier requires the reference's output dtype, so "correct" means float16 outputs
    assert load_problem(fp16_problem).module({"S": 8}).get_inputs()[0].dtype == torch.float16
