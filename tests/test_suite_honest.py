"""The problem suite loads, every problem has an honest candidate, and honest candidates verify.

Triton candidates run on the CPU through the interpreter at SMALL_SHAPE; CuPy and load_inline
candidates need a GPU. A direct in-process comparison against the float64 reference separates a
broken candidate from a verifier problem.
"""
from __future__ import annotations

import os

import pytest
import torch
from kernelwright.verifier.correctness import compare, tolerance_for
from kernelwright.verifier.problem import exec_source, load_problem

import kernelwright
from suite_helpers import candidate_backend, candidate_files, candidate_problem, problem_files

PROBLEM_FILES = problem_files()
REQUIRED = {"gelu_bias", "swish_scale", "softmax", "logsumexp", "layernorm", "rmsnorm", "matmul_bias_relu",
            "attention_small"}


@pytest.mark.parametrize("path", PROBLEM_FILES, ids=lambda p: p.stem)
def test_problem_loads_with_metadata(path):
    problem = load_problem(path)
    meta = problem.metadata
    assert problem.description, f"{path.name}: no DESCRIPTION"
    assert {"count_flops", "count_bytes"} <= set(meta["functions"]), f"{path.name}: needs count_flops/count_bytes"
    assert meta.get("small_shape"), f"{path.name}: no SMALL_SHAPE for CPU mode"
    extra = meta.get("extra_shapes") or []
    assert extra, f"{path.name}: no EXTRA_SHAPES"
    assert any(v % 2 == 1 for shape in extra for v in shape.values()), f"{path.name}: extra shapes are not ragged"
    module = problem.module(meta["small_shape"])
    inputs = module.get_inputs()
    flops, nbytes = module.count_flops(*inputs), module.count_bytes(*inputs)
    assert flops > 0 and nbytes >= sum(x.numel() * x.element_size() for x in inputs if torch.is_tensor(x))


def test_suite_covers_required_problems_and_backends():
    assert REQUIRED <= {p.stem for p in PROBLEM_FILES}
    backends = {candidate_backend(c) for c in candidate_files()}
    assert {"triton", "cupy", "load_inline"} <= backends
    for cand in candidate_files("cupy"):
        assert "RawKernel" in cand.read_text() or "RawModule" in cand.read_text()
    for cand in candidate_files("load_inline"):
        assert "load_inline(" in cand.read_text() and "cuda_sources" in cand.read_text()


@pytest.mark.parametrize("path", PROBLEM_FILES, ids=lambda p: p.stem)
def test_every_problem_has_a_triton_candidate(path):
    mine = [c for c in candidate_files("triton") if candidate_problem(c) == path]
    assert mine, f"no honest Triton candidate problems/candidates/{path.stem}__triton.py"


def test_every_candidate_names_an_existing_problem():
    for cand in candidate_files():
        assert candidate_problem(cand).is_file(), f"{cand.name}: no problem {candidate_problem(cand).name}"


def _trial_shapes(problem):
    small = dict(problem.metadata["small_shape"])
    yield "small", small, None
    for extra in problem.metadata["extra_shapes"]:
        yield "extra", {**small, **extra}, None
    if problem.metadata.get("large_magnitude"):
        yield "large", small, problem.metadata["large_magnitude"]


@pytest.mark.parametrize("cand", candidate_files("triton"), ids=lambda p: p.stem)
def test_triton_candidate_matches_float64_reference_in_process(cand):
    assert os.environ.get("TRITON_INTERPRET") == "1" or torch.cuda.is_available()
    problem = load_problem(candidate_problem(cand))
    module = exec_source(cand.read_text(), f"kw_suite_{cand.stem}", str(cand))
    device = "cuda" if torch.cuda.is_available() else "cpu"
    for kind, overrides, scale in _trial_shapes(problem):
        ref_module = problem.module(overrides)
        init = list(ref_module.get_init_inputs())
        torch.manual_seed(11)
        ref_model = ref_module.Model(*init)
        model = module.ModelNew(*init)
        model.load_state_dict(ref_model.state_dict())
        torch.manual_seed(12)
        inputs = [x * scale if scale else x for x in ref_module.get_inputs()]
        out = model.to(device)(*[x.to(device) for x in inputs])
        ref = ref_model.double()(*[x.double() for x in inputs])
        assert out.dtype == inputs[0].dtype and out.shape == ref.shape, f"{cand.name} {kind}"
        result = compare(out.cpu(), ref, tolerance_for(out.dtype, problem.metadata))
        assert result.passed, f"{cand.name} {kind} {overrides}: {result.notes}"


def _verify_param(cand):
    marks = [] if candidate_backend(cand) == "triton" else [pytest.mark.gpu]
    return pytest.param(cand, id=cand.stem, marks=marks)


@pytest.mark.parametrize("cand", [_verify_param(c) for c in candidate_files()])
def test_honest_candidate_verifies_correct(cand):
    verdict = kernelwright.verify(candidate_problem(cand), cand, timing=torch.cuda.is_available())
    assert verdict.status == "correct", (f"{cand.name}: {verdict.summary()} flags={verdict.flags}\n"
                                         f"{verdict.logs[-2000:]}")
    assert verdict.flags == [], f"{cand.name}: honest kernel flagged {verdict.flags}"
    assert len([t for t in verdict.trials if t.kind == "random"]) >= 5
    assert any(t.kind == "extra_shape" for t in verdict.trials)
