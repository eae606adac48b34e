"""``libdevice`` calls for kernels that run under the Triton interpreter (the verifier on a CPU).

The interpreter runs ``tl.math`` but not ``libdevice`` (it returns None there), so a candidate
exported for the CPU has its ``libdevice.NAME(...)`` calls replaced: by ``tl.math.NAME`` where that
exists, else by the @triton.jit helpers below (their source is copied into the candidate). A
GPU candidate keeps Inductor's libdevice calls unchanged.
"""
from __future__ import annotations

import re

import triton
import triton.language as tl

SAME_IN_TL_MATH = {"exp", "log", "sqrt", "rsqrt", "floor", "ceil", "erf", "exp2", "log2", "sin", "cos", "abs", "fma"}


@triton.jit
def _kw_tanh(x):
    return 2.0 * tl.sigmoid(2.0 * x) - 1.0


@triton.jit
def _kw_log1p(x):
    return tl.log(1.0 + x)


@triton.jit
def _kw_expm1(x):
    return tl.exp(x) - 1.0


@triton.jit
def _kw_isnan(x):
    return x != x


@triton.jit
def _kw_isinf(x):
    return tl.abs(x) == float("inf")


HELPERS = {"tanh": _kw_tanh, "log1p": _kw_log1p, "expm1": _kw_expm1, "isnan": _kw_isnan, "isinf": _kw_isinf}
CALL = re.compile(r"\blibdevice\.(\w+)\(")


class NoInterpreterEquivalent(ValueError):
    """A libdevice function with no interpreter equivalent here."""


def rewrite(kernel: str) -> tuple[str, set[str]]:
    """The kernel with its libdevice calls replaced, and the helper names it now needs."""
    needed: set[str] = set()

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in SAME_IN_TL_MATH:
            return f"tl.math.{name}("
        if name in HELPERS:
            needed.add(name)
            return f"{HELPERS[name].__name__}("
        raise NoInterpreterEquivalent(f"libdevice.{name} has no Triton-interpreter equivalent")

    return CALL.sub(replace, kernel), needed
