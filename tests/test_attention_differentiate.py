"""d score_mod / d score (agents/templates/attention/differentiate.py) against torch.autograd, for
every attention problem of the project and for mods that use each supported construct; the
derivative also translates to Triton text."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest
import torch
from kernelwright.agents.templates.attention.differentiate import GRAD_NAME, differentiated
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


def _check_against_autograd(source: str) -> None:
    namespace: dict = {}
    exec(compile(differentiated(ast.parse(source)), "<mod>", "exec"), namespace)  # noqa: S102 - our own test source
    b, h, q, kv = _grids()
    score = (3.0 * torch.randn(2, 4, 9, 11, dtype=torch.float64)).requires_grad_()
    out = torch.as_tensor(namespace["score_mod"](score, b, h, q, kv))
    expected = torch.autograd.grad(out.sum(), score)[0] if out.requires_grad else torch.zeros_like(score)
    got = torch.broadcast_to(torch.as_tensor(namespace[GRAD_NAME](score.detach(), b, h, q, kv),
                                             dtype=torch.float64), score.shape)
    torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("path", PROBLEMS, ids=lambda p: p.stem)
def test_derivative_of_each_problem_score_mod_matches_autograd_and_translates(path):
    source = path.read_text()
    _check_against_autograd(source)
    tree = differentiated(ast.parse(source))
    grad = translate(tree, GRAD_NAME, spec_names(tree))
    if translate(tree, "score_mod", spec_names(tree)).additive_bias is not None:  # score + bias: d/dscore = 1
        assert grad.result == "1.0"
    else:
        assert "score" in grad.result, grad.result


@pytest.mark.parametrize("name", list(MODS))
def test_derivative_of_each_construct_matches_autograd(name):
    _check_against_autograd(HEAD + MODS[name])


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
