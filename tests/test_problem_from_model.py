"""A problem built in a notebook from an nn.Module class and its input functions."""
import pytest
import torch
from kernelwright.verifier.problem import LoadError, problem_from_model


class Doubler(torch.nn.Module):
    def forward(self, x):
        return x * 2


def make_inputs():
    return [torch.arange(6.0)]


def make_init_inputs():
    return []


def test_problem_from_model_runs_like_a_problem_file():
    problem = problem_from_model(Doubler, make_inputs, make_init_inputs)
    assert problem.name == "Doubler"
    module = problem.module()
    out = module.Model(*module.get_init_inputs())(*module.get_inputs())
    assert torch.equal(out, torch.arange(6.0) * 2)


def test_source_not_available_is_one_line_error():
    built = type("Built", (torch.nn.Module,), {"forward": lambda self, x: x})
    with pytest.raises(LoadError, match="source of 'Built' is not available") as info:
        problem_from_model(built, make_inputs, make_init_inputs)
    assert "\n" not in str(info.value)
