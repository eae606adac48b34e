"""Translate ``score_mod`` / ``mask_mod`` into CUDA C++ device code (the hand-written CUDA backend).

Same AST walk as the Triton translator (attention_translate.py); only the emitted text differs.
Kernel names in scope: ``float score``, ``int b_idx, h_idx, q_idx, kv_idx``; ``names`` maps module
names to C text exactly as parse_spec builds it (shapes -> ``Z``/``NUM_HEADS``/``N_CTX``/``HEAD_DIM``,
ints; init arguments -> ``P_<NAME>``, int or float after the module constant's default value;
numeric constants -> literals, floats written as ``1.5f``).

Every emitted expression carries a C type (int, float or bool) that follows torch's rules for the
index tensors, so Python semantics hold for negative ints too: ``/`` is float division, ``//`` and
``%`` call ``kw_floordiv`` / ``kw_mod`` (floor semantics; undefined for a zero int divisor),
int op float promotes to float. ``and``/``or``/``not`` are logical; ``&``/``|``/``^``/``~`` are
logical on two bools (``&&``, ``||``, ``!=``, ``!``) and bitwise on ints; on floats they are an error.
The result of a score_mod is float, of a mask_mod bool.
"""
from __future__ import annotations

import ast
import math

from kernelwright.agents.templates.attention.spec import module_literals
from kernelwright.agents.templates.attention.translate_triton import (
    MASK_PARAMS,
    SCORE_PARAMS,
    TranslateError,
    Translation,
    _Translator,
)

SHAPE_PARAMS = ("Z", "NUM_HEADS", "N_CTX", "HEAD_DIM")
_FLOAT_CALLS = {"exp": "expf", "exp2": "exp2f", "log": "logf", "sqrt": "sqrtf", "sigmoid": "kw_sigmoid",
                "tanh": "kw_tanh"}
_LOGICAL = {"&": "&&", "|": "||", "^": "!="}

C_HELPERS = r"""// kernelwright mod helpers: Python semantics for // and %, int-preserving abs/min/max, tanh.
#ifndef KW_MOD_HELPERS
#define KW_MOD_HELPERS
#ifndef KW_DEVICE
#define KW_DEVICE __device__ __forceinline__
#endif
#if !defined(__CUDACC_RTC__)
#include <math.h>
#endif

KW_DEVICE int kw_floordiv(int a, int b) {  // floor(a / b), also for negative operands
  const int q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}
KW_DEVICE int kw_mod(int a, int b) {  // result takes the sign of b, like Python
  const int r = a % b;
  return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
}
KW_DEVICE float kw_floordiv(float a, float b) {  // Python's float //, via fmod
  if (b == 0.0f) return a / b;
  const float r = fmodf(a, b);
  float d = (a - r) / b;
  if (r != 0.0f && ((r < 0.0f) != (b < 0.0f))) d -= 1.0f;
  if (d == 0.0f) return copysignf(0.0f, a / b);
  float f = floorf(d);
  if (d - f > 0.5f) f += 1.0f;
  return f;
}
KW_DEVICE float kw_mod(float a, float b) {
  float r = fmodf(a, b);
  if (r != 0.0f) {
    if ((r < 0.0f) != (b < 0.0f)) r += b;
  } else {
    r = copysignf(0.0f, b);
  }
  return r;
}
KW_DEVICE int kw_abs(int x) { return x < 0 ? -x : x; }
KW_DEVICE float kw_abs(float x) { return fabsf(x); }
// int with int stays int; a float argument promotes the result to float; NaN propagates
template <class A, class B> KW_DEVICE auto kw_min(A a, B b) -> decltype(a + b) { return (a != a || a < b) ? a : b; }
template <class A, class B> KW_DEVICE auto kw_max(A a, B b) -> decltype(a + b) { return (a != a || a > b) ? a : b; }
KW_DEVICE float kw_sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }
KW_DEVICE float kw_tanh(float x) {
#ifdef __CUDA_ARCH__
  float y;
  asm("tanh.approx.f32 %0, %1;" : "=f"(y) : "f"(x));
  return y;
#else
  return tanhf(x);
#endif
}
#endif  // KW_MOD_HELPERS
"""


class _CTranslator(_Translator):
    """Emits C++; `types` records the C type of every text it emits (equal text, equal type)."""

    def __init__(self, functions: dict[str, ast.FunctionDef], names: dict[str, str], prefix: str,
                 name_types: dict[str, str]):
        super().__init__(functions, names, prefix)
        self.name_types = name_types
        self.types = {"score": "float", "b_idx": "int", "h_idx": "int", "q_idx": "int", "kv_idx": "int"}
        self.used: set[str] = set()

    def typed(self, text: str, ctype: str) -> str:
        self.types[text] = ctype
        return text

    def num(self, text: str) -> str:
        """A bool used as a number becomes an int, as in torch."""
        return self.typed(f"(int)({text})", "int") if self.types[text] == "bool" else text

    def as_float(self, text: str) -> str:
        return text if self.types[text] == "float" else self.typed(f"(float)({text})", "float")

    def arith_type(self, *texts: str) -> str:
        return "float" if any(self.types[t] == "float" for t in texts) else "int"

    def local_name(self, name: str) -> str:
        local, n = f"{self.prefix}{name}", 1
        while local in self.used:  # a reassigned Python name gets a fresh const
            local, n = f"{self.prefix}{name}_{n}", n + 1
        self.used.add(local)
        return local

    def assign(self, local: str, text: str) -> str:
        self.typed(local, self.types[text])
        return f"const {self.types[text]} {local} = {text};"

    def constant(self, value: int | float | bool) -> str:
        if isinstance(value, bool):
            return self.typed("true" if value else "false", "bool")
        if isinstance(value, int):
            if not -2**31 <= value < 2**31:
                raise TranslateError(f"integer {value} does not fit a 32-bit int in a mod function: use a float")
            return self.typed(str(value) if value >= 0 else f"({value})", "int")
        if not math.isfinite(value):
            raise TranslateError(f"non-finite float {value!r} in a mod function: use a finite constant")
        text = f"{value!r}f"
        return self.typed(text if value >= 0 else f"({text})", "float")

    def module_name(self, name: str) -> str:
        text = self.names[name]
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            value = None
        if isinstance(value, (int, float)):
            return self.constant(value)
        if text not in self.name_types:
            raise TranslateError(f"`{name}` maps to `{text}`, which has no C type: "
                                 "use a shape, init argument or number")
        return self.typed(text, self.name_types[text])

    def paren(self, text: str) -> str:
        return self.typed(f"({text})", self.types[text])

    def binop(self, op: str, left: str, right: str) -> str:
        if op == "/":
            return self.typed(f"({self.as_float(left)} / {self.as_float(right)})", "float")
        if op in _LOGICAL:
            if "float" in (self.types[left], self.types[right]):
                raise TranslateError(f"`{op}` on a float in a mod function: compare first or use int operands")
            if self.types[left] == self.types[right] == "bool":
                return self.typed(f"({left} {_LOGICAL[op]} {right})", "bool")
        left, right = self.num(left), self.num(right)
        ctype = self.arith_type(left, right)
        if op in ("//", "%"):
            if ctype == "float":
                left, right = self.as_float(left), self.as_float(right)
            helper = "kw_floordiv" if op == "//" else "kw_mod"
            return self.typed(f"{helper}({left}, {right})", ctype)
        return self.typed(f"({left} {op} {right})", ctype)

    def unary(self, op: ast.unaryop, inner: str) -> str:
        ctype = self.types[inner]
        if isinstance(op, ast.USub):
            return self.typed(f"(-{inner})", "float" if ctype == "float" else "int")
        if isinstance(op, ast.Not) or ctype == "bool":
            return self.typed(f"(!{inner})", "bool")
        if ctype == "float":
            raise TranslateError("`~` on a float in a mod function: use `not` or a comparison")
        return self.typed(f"(~{inner})", "int")

    def boolop(self, is_and: bool, parts: list[str]) -> str:
        return self.typed("(" + (" && " if is_and else " || ").join(parts) + ")", "bool")

    def compare(self, op: str, left: str, right: str) -> str:
        return self.typed(f"({left} {op} {right})", "bool")

    def where(self, cond: str, yes: str, no: str) -> str:
        kinds = {self.types[yes], self.types[no]}
        ctype = "bool" if kinds == {"bool"} else self.arith_type(yes, no)
        return self.typed(f"(({cond}) ? ({yes}) : ({no}))", ctype)

    def call_text(self, name: str, texts: list[str]) -> str:
        if name in _FLOAT_CALLS:
            return self.typed(f"{_FLOAT_CALLS[name]}({self.as_float(texts[0])})", "float")
        texts = [self.num(t) for t in texts]
        helper = {"abs": "kw_abs", "minimum": "kw_min", "maximum": "kw_max"}[name]
        return self.typed(f"{helper}({', '.join(texts)})", self.arith_type(*texts))


def _name_types(tree: ast.Module) -> dict[str, str]:
    """C types of the kernel-level names: shapes are int, P_<NAME> follows NAME's default value."""
    types = dict.fromkeys(SHAPE_PARAMS, "int")
    for name, value in module_literals(tree).items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            types[f"P_{name}"] = "int" if isinstance(value, int) else "float"
    return types


def translate_c(tree: ast.Module, fn_name: str, names: dict[str, str]) -> Translation:
    """Translate module-level `fn_name` (score_mod or mask_mod) into C++ statements and a result."""
    functions = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    if fn_name not in functions:
        raise TranslateError(f"no function `{fn_name}` in the problem")
    is_score = fn_name == "score_mod"
    tr = _CTranslator(functions, names, "_sm_" if is_score else "_mm_", _name_types(tree))
    out = tr.function(functions[fn_name], SCORE_PARAMS if is_score else MASK_PARAMS)
    rtype = tr.types[out.result]
    if is_score and rtype != "float":
        out.result = f"(float)({out.result})"
    elif not is_score and rtype != "bool":
        out.result = f"(({out.result}) != 0)"
    bias = out.additive_bias
    if bias is not None and tr.types[bias[2:-1] if bias.startswith("-(") else bias] != "float":
        out.additive_bias = f"(float)({bias})"  # `-(text)` (a folded sign) has the type of text
    return out


def c_kernel_params(tree: ast.Module) -> list[tuple[str, str]]:
    """(C type, name) of the trailing parameters of the wrapped mod functions, in order:
    int Z, int NUM_HEADS, int N_CTX, int HEAD_DIM, then P_<NAME> per ATTENTION['init_args']
    (int or float after the module constant's default)."""
    literals = module_literals(tree)
    meta = literals.get("ATTENTION") or {}
    params = [("int", n) for n in SHAPE_PARAMS]
    types = _name_types(tree)
    for name in (meta.get("init_args", []) if isinstance(meta, dict) else []):
        if f"P_{name}" not in types:
            raise TranslateError(f"init argument `{name}` needs a numeric module constant (its default) "
                                 "to get a C type")
        params.append((types[f"P_{name}"], f"P_{name}"))
    return params
