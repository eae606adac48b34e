"""The reference Model is built once per verification and shared, never changed by its users."""
import collections
import copy

import pytest
import torch
from kernelwright.verifier import evidence, reference_model
from kernelwright.verifier.problem import load_problem

LINEAR_BN = '''
import torch
import torch.nn as nn

class Model(nn.Module):
    def __init__(self, k, n):
        super().__init__()
        self.linear = nn.Linear(k, n)
        self.norm = nn.BatchNorm1d(n)  # training mode: a forward updates running_mean

    def forward(self, x):
        return torch.sigmoid(self.norm(self.linear(x)))

batch_size = 8
k = 32
n = 16

def get_inputs():
    return [torch.rand(batch_size, k)]

def get_init_inputs():
    return [k, n]
'''


def test_users_of_the_shared_model_leave_it_as_built():
    problem = load_problem(LINEAR_BN)
    reference_model.forget()
    kept = reference_model.reference_model(problem, {})
    before = {k: v.clone() for k, v in kept.state_dict().items()}
    inputs = [torch.rand(8, 32) * 10]
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
    original = torch.nn.Linear.reset_parameters

    def counted(self):
        builds["linear"] += 1
        return original(self)

    monkeypatch.setattr(reference_model, "_KEPT", {})
    monkeypatch.setattr(torch.nn.Linear, "reset_parameters", counted)
    built = collections.Counter()
    real = reference_model.reference_model

    def tracking(problem, overrides, seed=reference_model.MODEL_SEED):
        model = real(problem, overrides, seed)
        built[repr(sorted(overrides.items()))] += 1
        return model

    monkeypatch.setattr(evidence, "reference_model", tracking)
    verdict = kernelwright.verify(problem, candidate, device="cpu", timing=True)
    assert verdict.status == "correct", verdict.summary()
    shapes = len(built)  # the distinct sizes the trials ran at
    assert sum(built.values()) > shapes  # the trials asked for the reference more often than once per shape
    assert builds["linear"] == shapes + 2  # ... and got a kept one (+2: the CPU shrink's own probes)


def test_a_model_that_cannot_be_copied_is_built_again():
    norm = "        self.norm = nn.BatchNorm1d(n)"
    problem = load_problem(LINEAR_BN.replace(norm, norm + "\n        self.stream = (i for i in range(3))"))
    reference_model.forget()
    kept = reference_model.reference_model(problem, {})
    with pytest.raises(TypeError):
        copy.deepcopy(kept)
    own = reference_model.own_copy(problem, {})
    assert own is not kept and all(torch.equal(a, b) for a, b in zip(own.state_dict().values(),
                                                                        kept.state_dict().values()))
    out = evidence.reference_outputs(problem, {}, [torch.rand(8, 32)], reference_model.MODEL_SEED)
    assert out.outputs[0].shape == (8, 16)
