"""Test harness of the C translation: the translated mods wrapped as complete host/device functions.

The CUDA backend inlines the translation into its kernel; these wrappers let the tests compile a
translated mod alone with the host C compiler and compare it with PyTorch.
"""
from __future__ import annotations

from kernelwright.agents.templates.attention.translate_c import MASK_PARAMS, Translation


def c_mod_function(translation: Translation, kind: str, params: list[tuple[str, str]], name: str = "") -> str:
    """A complete device function: `KW_DEVICE float kw_score_mod(float score, int b_idx, int h_idx,
    int q_idx, int kv_idx, <params>)` or `KW_DEVICE bool kw_mask_mod(int b_idx, ..., <params>)`;
    `name` replaces kw_<kind> (e.g. for a function returning a Translation whose result is its bias)."""
    if kind not in ("score_mod", "mask_mod"):
        raise ValueError(f"kind must be 'score_mod' or 'mask_mod', got {kind!r}")
    head = ["float score"] if kind == "score_mod" else []
    args = head + [f"int {p}" for p in MASK_PARAMS] + [f"{t} {n}" for t, n in params]
    rtype = "float" if kind == "score_mod" else "bool"
    body = "".join(f"  {s}\n" for s in translation.statements)
    return f"KW_DEVICE {rtype} {name or 'kw_' + kind}({', '.join(args)}) {{\n{body}  return {translation.result};\n}}\n"


def c_call(kind: str, params: list[tuple[str, str]], score: str = "score",
           indices: tuple[str, str, str, str] = MASK_PARAMS) -> str:
    """The call expression for a function from c_mod_function, e.g. `kw_mask_mod(b_idx, ..., P_WINDOW)`."""
    args = ([score] if kind == "score_mod" else []) + list(indices) + [n for _, n in params]
    return f"kw_{kind}({', '.join(args)})"
