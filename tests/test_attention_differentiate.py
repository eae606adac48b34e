"""d score_mod / d score (agents/templates/attention/differentiate.py) against torch.autograd, for
every attention problem of the project and for mods that use each supported construct; the
derivative also translates to Triton text."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest
import torch
from kernelwright.agents.templates.attention.differentiate import GRAD_NAME, differentiated, tensor_derivatives
from kernelwright.agents.templates.attention.spec import spec_names
from kernelwright.agents.templates.attention.translate_triton import TranslateError, translate

ROOT = Path(__file__).resolve().parents[1]
PROBLEMS = sorted(p for p in (ROOT / "problems" / "attention").glob("*.py") if "def score_mod" in p.read_text())
HEAD = "import torch\nH = 4\nCAP = 3.0\n"
MODS = {
    "locals_and_division": "def score_mod(s, b, h, q, kv):\n    t = s / CAP\n    u = t * t\n"
                           "    return u / (1.0 + t * t)\n",
    "helper_inlined": "def cap(x):\n    return CAP * torch.tanh(x / CAP)\n"
                      "def score_mod(s, b, h, q, kv):\n    return cap(s) + h\n",
    "where_and_ifexp": "def score_mod(s, b, h, q, kv):\n"
                       "    return torch.where(q >= kv, s * 2.0, -s) if H > 2 else torch.exp(s / 4.0)\n",
    "min_max_clamp": "def score_mod(s, b, h, q, kv):\n"
                     "    return torch.minimum(s, 0.5 * s) + torch.maximum(2.0 * s, s * s) + s.clamp(-0.5, 0.5)\n",
    "sigmoid_abs_log_sqrt_exp2": "def score_mod(s, b, h, q, kv):\n"
                                 "    return torch.sigmoid(s) + abs(s) + torch.log(s * s + 1.0)"
                                 " + torch.sqrt(s * s + 2.0) + torch.exp2(s / 8.0)\n",
    "score_replaced": "def score_mod(s, b, h, q, kv):\n    return q - kv\n",
}


def _grids(shape=(2, 4, 9, 11)):
    b = torch.arange(shape[0]).view(-1, 1, 1, 1)
    h = torch.arange(shape[1]).view(1, -1, 1, 1)
    q = torch.arange(shape[2]).view(1, 1, -1, 1)
    kv = torch.arange(shape[3]).view(1, 1, 1, -1)
    return b, h, q, kv


def _check_against_autograd(source: str, tensors: tuple = ()) -> None:
    """d score_mod / d score, and d score_mod / d each tensor element it reads, against autograd."""
    namespace: dict = {}
    exec(compile(differentiated(ast.parse(source)), "<mod>", "exec"), namespace)  # noqa: S102 - our own test source
    b, h, q, kv = _grids()
    score = (3.0 * torch.randn(2, 4, 9, 11, dtype=torch.float64)).requires_grad_()
    leaves = [t.detach().double().requires_grad_() for t in tensors]
    out = torch.as_tensor(namespace["score_mod"](score, b, h, q, kv, *leaves))
    expected = torch.autograd.grad(out.sum(), score, retain_graph=True)[0] if out.requires_grad \
        else torch.zeros_like(score)
    got = torch.broadcast_to(torch.as_tensor(namespace[GRAD_NAME](score.detach(), b, h, q, kv, *leaves),
                                             dtype=torch.float64), score.shape)
    torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-12)
    if not leaves:
        return
    tree, uses = tensor_derivatives(ast.parse(source))
    exec(compile(tree, "<mod>", "exec"), namespace)  # noqa: S102 - our own test source
    summed = [torch.zeros_like(t) for t in leaves]
    args = (score.detach(), b, h, q, kv, *leaves)
    score_mod = next(n for n in ast.parse(source).body if isinstance(n, ast.FunctionDef) and n.name == "score_mod")
    names = [a.arg for a in score_mod.args.args[5:]]
    for use in uses:  # scatter each pair's d score_mod / d element into the element's index
        share = torch.broadcast_to(torch.as_tensor(namespace[use.grad_fn](*args), dtype=torch.float64), score.shape)
        index = [torch.broadcast_to(torch.as_tensor(namespace[fn](*args)), score.shape) for fn in use.index_fns]
        summed[names.index(use.tensor)].index_put_(tuple(i.reshape(-1) for i in index), share.reshape(-1),
                                                   accumulate=True)
    for leaf, got_t in zip(leaves, summed):
        torch.testing.assert_close(got_t, torch.autograd.grad(out.sum(), leaf, retain_graph=True)[0],
                                   rtol=1e-10, atol=1e-10)


def _tensors_of(source: str) -> tuple:
    """The tensors a problem's score_mod reads, from its Model at the problem's init inputs."""
    fn = next(n for n in ast.parse(source).body if isinstance(n, ast.FunctionDef) and n.name == "score_mod")
    if len(fn.args.args) == 5:
        return ()
    namespace: dict = {}
    exec(compile(source, "<problem>", "exec"), namespace)  # noqa: S102 - the project's own problem
    model = namespace["Model"](*namespace["get_init_inputs"]())
    return tuple(getattr(model, a.arg) for a in fn.args.args[5:])


@pytest.mark.parametrize("path", PROBLEMS, ids=lambda p: p.stem)
def test_derivative_of_each_problem_score_mod_matches_autograd_and_translates(path):
    source = path.read_text()
    _check_against_autograd(source, _tensors_of(source))
    tree = differentiated(ast.parse(source))
    grad = translate(tree, GRAD_NAME, spec_names(tree))
    if translate(tree, "score_mod", spec_names(tree)).additive_bias is not None:  # score + bias: d/dscore = 1
        assert grad.result == "1.0"
    else:
        assert "score" in grad.result, grad.result


@pytest.mark.parametrize("name", list(MODS))
def test_derivative_of_each_construct_matches_autograd(name):
    _check_against_autograd(HEAD + MODS[name])


def test_derivatives_for_tensor_elements_match_autograd():
    """A bias table read per pair, and a per-head scale read twice (one element: both uses differentiated)."""
    source = HEAD + ("def score_mod(s, b, h, q, kv, table, scale):\n"
                     "    return torch.tanh(s * scale[h]) * scale[h] + table[h, q - kv + 10] * s\n")
    _check_against_autograd(source, (torch.randn(4, 21), torch.rand(4) + 0.5))


def test_softcap_derivative_is_one_minus_tanh_squared_in_triton():
    tree = differentiated(ast.parse(HEAD + MODS["helper_inlined"]))
    text = translate(tree, GRAD_NAME, spec_names(tree)).result
    assert "_kw_tanh" in text and "1.0 -" in text


@pytest.mark.parametrize("body, why", [
    ("return s // 2.0", "cannot differentiate"),
    ("return torch.where(s > 0, s, 0.0)", "cannot differentiate"),
    ("x = 1\n    x = s\n    for i in range(2):\n        pass\n    return x", "only `name = expr`"),
])
def test_what_cannot_be_differentiated_is_one_clear_error(body, why):
    with pytest.raises(TranslateError, match=why):
        differentiated(ast.parse(HEAD + f"def score_mod(s, b, h, q, kv):\n    {body}\n"))
