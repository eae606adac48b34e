"""The reference Model is built once per verification and shared, never changed by its users."""
import collections
import copy
from pathlib import Path

import pytest
import torch
from kernelwright.verifier import evidence, reference_model
from kernelwright.verifier.problem import load_problem

# Linear + BatchNorm1d in training mode (a forward updates running_mean) + GELU + a learned scale
LINEAR_BN = (Path(__file__).resolve().parents[1] / "problems" / "kb" / "fused_gemm_batchnorm_gelu_scale.py").read_text()


def test_users_of_the_shared_model_leave_it_as_built():
    problem = load_problem(LINEAR_BN)
    reference_model.forget()
    kept = reference_model.reference_model(problem, {})
    before = {k: v.clone() for k, v in kept.state_dict().items()}
    inputs = [torch.rand(8, 4096) * 10]
    first = evidence.reference_outputs(problem, {}, inputs, reference_model.MODEL_SEED)
    eager = evidence.eager_outputs(problem, {}, inputs, reference_model.MODEL_SEED)
    again = evidence.reference_outputs(problem, {}, inputs, reference_model.MODEL_SEED)
    assert reference_model.reference_model(problem, {}) is kept  # one build, shared
    assert all(torch.equal(before[k], v) for k, v in kept.state_dict().items())  # running stats untouched
    assert torch.equal(first.outputs[0], again.outputs[0])
    assert torch.allclose(eager[0].double(), first.outputs[0], atol=1e-5)
    reference_model.forget()
    assert reference_model.reference_model(problem, {}) is not kept


def test_a_verification_builds_the_reference_once_per_shape(monkeypatch):
    """A GPU verification built Model(...) ~15 times (each trial's reference, the eager floor, the weights sent
    to the candidate, the reference timing): 4 GiB nn.Linear problems ran out of their 3 minutes."""
    from kernelwright.agents.coder import CodeRequest
    from kernelwright.agents.template_coder import TemplateCoder

    import kernelwright

    problem = load_problem(LINEAR_BN)
    request = CodeRequest(problem_source=problem.source, problem_name=problem.name, description="",
                          metadata=problem.metadata, strategy="first_draft")
    candidate = TemplateCoder(only=("lowered",)).generate(request).source
    builds = collections.Counter()
    real_build = reference_model._build

    def counted(problem, overrides, seed):
        builds[repr(sorted(overrides.items()))] += 1
        return real_build(problem, overrides, seed)

    monkeypatch.setattr(reference_model, "_KEPT", {})
    monkeypatch.setattr(reference_model, "_build", counted)
    verdict = kernelwright.verify(problem, candidate, device="cpu", timing=True)
    assert verdict.status == "correct", verdict.summary()
    assert 1 <= len(builds) <= 3  # the sizes the trials ran at (own, extra shape)
    assert all(count == 1 for count in builds.values()), builds  # each built once, then kept


def test_a_model_that_cannot_be_copied_is_built_again():
    norm = "        self.bn = nn.BatchNorm1d(out_features)"
    problem = load_problem(LINEAR_BN.replace(norm, norm + "\n        self.stream = (i for i in range(3))"))
    reference_model.forget()
    kept = reference_model.reference_model(problem, {})
    with pytest.raises(TypeError):
        copy.deepcopy(kept)
    own = reference_model.own_copy(problem, {})
    assert own is not kept and all(torch.equal(a, b) for a, b in zip(own.state_dict().values(),
                                                                        kept.state_dict().values()))
    out = evidence.reference_outputs(problem, {}, [torch.rand(8, 4096)], reference_model.MODEL_SEED)
    assert out.outputs[0].shape == (8, 4095)
