"""The score_mod / mask_mod -> Triton translator (AST only, nothing executed)."""
import ast

import pytest
from kernelwright.agents.templates.attention.spec import parse_spec
from kernelwright.agents.templates.attention.translate_triton import TranslateError, float_index_safe, translate

NAMES = {"WINDOW": "P_WINDOW", "S": "N_CTX", "H": "NUM_HEADS", "CAP": "30.0"}


def _tr(src: str, fn: str, **kw):
    return translate(ast.parse(src), fn, NAMES, **kw)


def test_additive_score_mod_exposes_bias_for_exp2_folding():
    t = _tr("def score_mod(s, b, h, q, kv):\n    return s + (q - kv)\n", "score_mod")
    assert t.additive_bias == "(q_idx - kv_idx)"
    assert t.result == "(score + (q_idx - kv_idx))"


def test_subtracted_bias_keeps_its_sign():
    t = _tr("def score_mod(s, b, h, q, kv):\n    slope = h + 1\n    return s - slope * abs(q - kv)\n", "score_mod")
    assert t.statements == ["_sm_slope = (h_idx + 1)"]
    assert t.additive_bias == "-((_sm_slope * tl.abs((q_idx - kv_idx))))"


def test_non_additive_score_mod_has_no_bias_and_uses_tanh_helper():
    t = _tr("def score_mod(score, b, h, q, kv):\n    return CAP * torch.tanh(score / CAP)\n", "score_mod")
    assert t.additive_bias is None and t.uses_tanh
    assert t.result == "(30.0 * _kw_tanh((score / 30.0), FAST_TANH))"


def test_local_depending_on_score_is_not_a_bias():
    t = _tr("def score_mod(s, b, h, q, kv):\n    x = s * 2\n    return s + x\n", "score_mod")
    assert t.additive_bias is None


def test_mask_mod_with_chained_compare_clamp_method_and_helper():
    src = (
        "def row(i):\n    return i // 7\n\n"
        "def mask_mod(b, h, q, kv):\n"
        "    c = q.clamp(1, 5)\n"
        "    return (0 <= q - kv < WINDOW) & (abs(c - row(kv)) <= 1) | (kv == q)\n"
    )
    t = _tr(src, "mask_mod")
    assert t.statements == ["_mm_c = tl.minimum(tl.maximum(q_idx, 1), 5)"]
    assert "((0 <= (q_idx - kv_idx)) & ((q_idx - kv_idx) < P_WINDOW))" in t.result
    assert "tl.abs((_mm_c - ((kv_idx) // 7)))" in t.result


def test_float_indices_only_for_float_exact_score_mods():
    relpos = ast.parse("def score_mod(s, b, h, q, kv):\n    return s + (q - kv)\n")
    bucket = ast.parse("def score_mod(s, b, h, q, kv):\n    return s + (q - kv) // 8\n")
    assert float_index_safe(relpos, "score_mod") and not float_index_safe(bucket, "score_mod")
    assert translate(relpos, "score_mod", NAMES, float_indices=True).additive_bias == "(q_idx_f - kv_idx_f)"


@pytest.mark.parametrize("body, words", [
    ("return s ** 2", "**"),
    ("return s + UNKNOWN", "UNKNOWN"),
    ("return s + torch.rand(1)", "unsupported call"),
])
def test_unsupported_python_is_a_one_line_error(body, words):
    with pytest.raises(TranslateError, match=words.replace("*", r"\*")) as info:
        _tr(f"def score_mod(s, b, h, q, kv):\n    {body}\n", "score_mod")
    assert "\n" not in str(info.value)


def test_overridden_constant_must_be_an_init_argument():
    src = "SMALL_SHAPE = {'WIN': 4}\nWIN = 64\nATTENTION = {'window': 'WIN'}\n" \
          "def mask_mod(b, h, q, kv):\n    return q - kv < WIN\n"
    with pytest.raises(TranslateError, match="WIN"):
        parse_spec(src)
    ok = parse_spec(src.replace("{'window': 'WIN'}", "{'window': 'WIN', 'init_args': ['WIN']}"))
    assert ok.window == "P_WIN" and ok.init_args == ["WIN"]
