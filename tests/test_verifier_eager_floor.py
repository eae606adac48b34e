"""Ordinary trials: a numeric miss is judged against eager's own error only where eager misses too."""
import torch
from kernelwright.verifier import robustness
from kernelwright.verifier.correctness import tolerance_for
from kernelwright.verifier.evidence import Reference


def test_no_floor_where_eager_meets_the_ordinary_tolerance():
    ref = torch.randn(64, 100, dtype=torch.float64)
    assert robustness.eager_floor([ref.float()], Reference([ref], [torch.float32], True), {}) is None


def test_floor_is_eager_error_times_the_factor_where_eager_misses():
    ref = torch.full((32,), 1e-17, dtype=torch.float64)  # a mean that cancels to ~0 in float64
    eager = torch.full((32,), 2e-8)  # float32 rounding noise of the same mean
    floor = robustness.eager_floor([eager], Reference([ref], [torch.float32], True), {})
    ordinary = tolerance_for(torch.float32)
    assert floor is not None and floor[0].rel_norm > 1e8 and floor[0].atol == ordinary.atol


def test_no_floor_where_eager_gives_nan():
    ref = torch.ones(4, dtype=torch.float64)
    assert robustness.eager_floor([torch.full((4,), float("nan"))], Reference([ref], [torch.float32], True), {}) is None


def test_timed_calls_are_judged_against_eager_error_where_eager_misses_too():
    """The sampled timed calls get the same floor as the correctness trials (a GPU run rejected an honest
    GEMM + sum at timing while its correctness trials passed: float32 eager missed there too)."""
    from pathlib import Path

    from kernelwright.agents.coder import CodeRequest
    from kernelwright.agents.template_coder import TemplateCoder
    from kernelwright.verifier.problem import load_problem

    import kernelwright

    problem = load_problem(Path(__file__).resolve().parents[1] / "problems" / "kb" / "fused_groupnorm_mean.py")
    request = CodeRequest(problem_source=problem.source, problem_name=problem.name, description="",
                          metadata=problem.metadata, strategy="first_draft")
    candidate = TemplateCoder(only=("lowered",)).generate(request).source
    verdict = kernelwright.verify(problem, candidate, device="cpu", timing=True)
    assert verdict.status == "correct", verdict.summary()
    assert "timing.outputs" in verdict.durations  # the timed calls' outputs were checked


def test_floor_keeps_the_gradients_own_tolerance():
    """A GPU run rejected a bf16 attention backward at 0.026 on dQ against atol 0.02: where eager missed on
    another output, the floor had replaced the gradients' GRAD_ATOL (0.06) with the forward's ATOL."""
    metadata = {"atol": {"bfloat16": 2e-2}, "rtol": {"bfloat16": 2e-2},
                "grad_atol": {"bfloat16": 6e-2}, "grad_rtol": {"bfloat16": 6e-2}}
    out_ref = torch.full((16,), 1e-17, dtype=torch.float64)  # an output that cancels: eager misses here
    grad_ref = torch.ones(16, dtype=torch.float64)
    ref = Reference([out_ref, grad_ref], [torch.bfloat16, torch.bfloat16], True, gradients_from=1)
    eager = [torch.full((16,), 0.5, dtype=torch.bfloat16), grad_ref.to(torch.bfloat16)]
    floor = robustness.eager_floor(eager, ref, metadata)
    assert floor is not None
    assert floor[0].atol >= 0.5 * robustness.ERROR_FACTOR  # widened to eager's error
    assert floor[1].atol == 6e-2 and floor[1].rtol == 6e-2  # the gradient keeps GRAD_ATOL / GRAD_RTOL
    forward_only = Reference(ref.outputs, ref.dtypes, True)  # no backward: every output takes the ordinary ATOL
    without = robustness.eager_floor(eager, forward_only, metadata)
    assert without is not None and without[1].atol == 2e-2
