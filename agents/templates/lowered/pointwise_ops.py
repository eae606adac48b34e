"""Pointwise aten ops as Triton expressions, and the `@triton.jit` helpers they need.

`OPS` maps an aten overload-packet name to a function ``(args, out_ty) -> (expr, helpers)`` over
already-typed operands (`Val`). Floating values are computed in float32 whatever their storage
dtype; integers in int32 / int64; booleans as int1. The helpers below are real Triton functions;
the emitter copies the source of the ones a kernel uses into the candidate (`inspect.getsource`).
They use only `tl.exp` / `tl.log` / `tl.exp2` / `tl.log2` / `tl.erf` / `tl.sqrt` / `tl.sigmoid`,
which the interpreter and every Triton 3.x backend implement (libdevice calls return None under
the interpreter). Accuracy: expm1 and log1p use Kahan's tricks, so they stay accurate near 0.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import triton
import triton.language as tl

F32, I64, I32, B1 = "tl.float32", "tl.int64", "tl.int32", "tl.int1"


@triton.jit
def kw_expm1(x):
    u = tl.exp(x)
    um1 = u - 1.0
    r = tl.where(u == 1.0, x, um1 * x / tl.log(u))  # Kahan: exact where u - 1 cancels
    r = tl.where(um1 == -1.0, -1.0, r)
    return tl.where(u == float("inf"), u, r)


@triton.jit
def kw_log1p(x):
    u = 1.0 + x
    r = tl.where(u == 1.0, x, tl.log(u) * x / (u - 1.0))  # Kahan: exact where 1 + x rounds
    return tl.where(u == float("inf"), u, r)


@triton.jit
def kw_tanh(x):
    e = kw_expm1(-2.0 * tl.abs(x))
    t = -e / (2.0 + e)
    return tl.where(x < 0, -t, t)


@triton.jit
def kw_pow(x, y):
    r = tl.exp2(y * tl.log2(tl.abs(x)))
    y_int = tl.floor(y) == y
    odd = y_int & (tl.floor(y * 0.5) * 2.0 != y)
    r = tl.where((x < 0) & odd, -r, r)
    r = tl.where((x < 0) & (y_int == 0), float("nan"), r)
    return tl.where(y == 0.0, 1.0, r)


@triton.jit
def kw_round(x):
    r = tl.floor(x + 0.5)
    tie = (r - x) == 0.5
    odd = (r - tl.floor(r * 0.5) * 2.0) != 0.0
    return tl.where(tie & odd, r - 1.0, r)  # half to even, like torch.round


@triton.jit
def kw_floordiv_int(a, b):
    q = a // b  # Triton truncates towards zero
    r = a - q * b
    return tl.where((r != 0) & ((r < 0) != (b < 0)), q - 1, q)


@triton.jit
def kw_remainder_int(a, b):
    r = a % b
    return tl.where((r != 0) & ((r < 0) != (b < 0)), r + b, r)


@triton.jit
def kw_remainder_float(a, b):
    r = a - tl.floor(a / b) * b
    return r


@dataclass
class Val:
    """A typed Triton expression: a variable, a literal or a scalar kernel argument."""

    expr: str
    ty: str
    literal: bool = False
    value: object = None  # the Python value of a literal


def compute_type(dtype: torch.dtype) -> str:
    """Triton type values of this torch dtype are computed in."""
    if dtype.is_floating_point:
        return F32
    if dtype == torch.bool:
        return B1
    return I64 if dtype == torch.int64 else I32


def store_type(dtype: torch.dtype) -> str:
    """Triton type a value of this dtype is stored as."""
    return {torch.float32: F32, torch.float16: "tl.float16", torch.bfloat16: "tl.bfloat16", torch.bool: B1,
            torch.int64: I64, torch.int32: I32, torch.int16: "tl.int16", torch.int8: "tl.int8",
            torch.uint8: "tl.uint8"}[dtype]


def literal(value: bool | int | float) -> Val:
    """A Python constant as a Triton literal (non-finite floats spelled with float())."""
    if value is None or isinstance(value, str):
        return Val(repr(value), "none", True, value)
    if isinstance(value, bool):
        return Val("1" if value else "0", B1, True, value)
    if isinstance(value, int):
        return Val(repr(value), I64 if abs(value) >= 2**31 else I32, True, value)
    if math.isfinite(value):
        return Val(repr(float(value)), F32, True, float(value))
    return Val(f'float("{value}")', F32, True, float(value))


def cast(v: Val, ty: str) -> str:
    """Expression of `v` as type `ty`."""
    if v.ty == ty:
        return v.expr
    if v.literal:
        if ty == F32:
            return v.expr if ("." in v.expr or "float" in v.expr or "e" in v.expr) else f"{v.expr}.0"
        if ty in (I32, I64) and v.ty in (I32, I64, B1):
            return v.expr
    if ty == B1:
        return f"({v.expr} != 0)"
    return f"({v.expr}).to({ty})"


def common(*vals: Val) -> str:
    """Type two operands are combined in: float beats int beats bool; int64 beats int32."""
    tys = {v.ty for v in vals}
    for ty in (F32, I64, I32, B1):
        if ty in tys:
            return ty
    return F32


Op = Callable[[list[Val], str], "tuple[str, tuple[Callable, ...]]"]


def _binary(fmt: str) -> Op:
    def op(args: list[Val], out: str) -> tuple[str, tuple]:
        ty = out if out != B1 else common(*args)
        return fmt.format(*(cast(a, ty) for a in args[:2])), ()
    return op


def _compare(sym: str) -> Op:
    def op(args: list[Val], out: str) -> tuple[str, tuple]:
        ty = common(args[0], args[1])
        return f"({cast(args[0], ty)} {sym} {cast(args[1], ty)})", ()
    return op


def _float_unary(fmt: str, *helpers: Callable) -> Op:
    def op(args: list[Val], out: str) -> tuple[str, tuple]:
        return fmt.format(cast(args[0], F32)), helpers
    return op


def _alpha(args: list[Val]) -> Val | None:
    alpha = args[2] if len(args) > 2 else None
    return None if alpha is None or (alpha.literal and alpha.value in (1, 1.0, None)) else alpha


def _add(args: list[Val], out: str) -> tuple[str, tuple]:
    a, b, alpha = cast(args[0], out), cast(args[1], out), _alpha(args)
    if out == B1:
        return f"({a} | {b})", ()
    return (f"({a} + {b})" if alpha is None else f"({a} + {b} * {cast(alpha, out)})"), ()


def _sub(args: list[Val], out: str) -> tuple[str, tuple]:
    a, b, alpha = cast(args[0], out), cast(args[1], out), _alpha(args)
    return (f"({a} - {b})" if alpha is None else f"({a} - {b} * {cast(alpha, out)})"), ()


def _div(args: list[Val], out: str) -> tuple[str, tuple]:
    mode = args[2].value if len(args) > 2 else None
    if mode is None:
        return f"({cast(args[0], F32)} / {cast(args[1], F32)})", ()
    if out == F32:
        q = f"({cast(args[0], F32)} / {cast(args[1], F32)})"
        return (f"tl.floor({q})" if mode == "floor" else f"tl.where({q} < 0, tl.ceil({q}), tl.floor({q}))"), ()
    a, b = cast(args[0], out), cast(args[1], out)
    return (f"kw_floordiv_int({a}, {b})", (kw_floordiv_int,)) if mode == "floor" else (f"({a} // {b})", ())


def _remainder(args: list[Val], out: str) -> tuple[str, tuple]:
    a, b = cast(args[0], out), cast(args[1], out)
    if out == F32:
        return f"kw_remainder_float({a}, {b})", (kw_remainder_float,)
    return f"kw_remainder_int({a}, {b})", (kw_remainder_int,)


def _pow(args: list[Val], out: str) -> tuple[str, tuple]:
    base, exp = args[0], args[1]
    if out != F32:
        raise NotImplementedError("integer pow")
    x = cast(base, F32)
    if exp.literal:
        e = float(exp.value)
        special = {1.0: "{x}", 2.0: "({x} * {x})", 3.0: "({x} * {x} * {x})", 0.5: "tl.sqrt({x})",
                   -1.0: "(1.0 / {x})", -0.5: "tl.rsqrt({x})", -2.0: "(1.0 / ({x} * {x}))",
                   4.0: "(({x} * {x}) * ({x} * {x}))"}
        if e in special:
            return special[e].format(x=x), ()
        if e == 0.0:
            return f"tl.full({x}.shape, 1.0, tl.float32)" if not base.literal else "1.0", ()
    if exp.literal:  # a block, so that the helper's tests on y are tensor ops
        return f"kw_pow({x}, {x} * 0.0 + {cast(exp, F32)})", (kw_pow,)
    if base.literal:
        return f"kw_pow({cast(exp, F32)} * 0.0 + {x}, {cast(exp, F32)})", (kw_pow,)
    return f"kw_pow({x}, {cast(exp, F32)})", (kw_pow,)


def _maximum(args: list[Val], out: str) -> tuple[str, tuple]:
    a, b = cast(args[0], out), cast(args[1], out)
    nan = ", propagate_nan=tl.PropagateNan.ALL" if out == F32 else ""
    return f"tl.maximum({a}, {b}{nan})", ()


def _minimum(args: list[Val], out: str) -> tuple[str, tuple]:
    a, b = cast(args[0], out), cast(args[1], out)
    nan = ", propagate_nan=tl.PropagateNan.ALL" if out == F32 else ""
    return f"tl.minimum({a}, {b}{nan})", ()


def _clamp(args: list[Val], out: str) -> tuple[str, tuple]:
    expr = cast(args[0], out)
    nan = ", propagate_nan=tl.PropagateNan.ALL" if out == F32 else ""
    if len(args) > 1 and not (args[1].literal and args[1].value is None):
        expr = f"tl.maximum({expr}, {cast(args[1], out)}{nan})"
    if len(args) > 2 and not (args[2].literal and args[2].value is None):
        expr = f"tl.minimum({expr}, {cast(args[2], out)}{nan})"
    return expr, ()


def _where(args: list[Val], out: str) -> tuple[str, tuple]:
    return f"tl.where({cast(args[0], B1)}, {cast(args[1], out)}, {cast(args[2], out)})", ()


def _sign(args: list[Val], out: str) -> tuple[str, tuple]:
    x = cast(args[0], out)
    one, zero = ("1.0", "0.0") if out == F32 else ("1", "0")
    return f"tl.where({x} > 0, {one}, tl.where({x} < 0, -{one}, {x} * {zero}))", ()


def _identity(args: list[Val], out: str) -> tuple[str, tuple]:
    return cast(args[0], out), ()


def _logical(sym: str) -> Op:
    def op(args: list[Val], out: str) -> tuple[str, tuple]:
        return f"({cast(args[0], B1)} {sym} {cast(args[1], B1)})", ()
    return op


OPS: dict[str, Op] = {
    "add": _add, "sub": _sub, "rsub": lambda a, o: _sub([a[1], a[0], *a[2:]], o), "mul": _binary("({} * {})"),
    "div": _div, "true_divide": _div, "remainder": _remainder, "pow": _pow,
    "maximum": _maximum, "minimum": _minimum, "fmax": _maximum, "fmin": _minimum,
    "clamp": _clamp, "clamp_min": lambda a, o: _clamp([a[0], a[1]], o),
    "clamp_max": lambda a, o: _clamp([a[0], literal(None), a[1]], o),
    "where": _where, "sign": _sign, "sgn": _sign,
    "eq": _compare("=="), "ne": _compare("!="), "lt": _compare("<"), "le": _compare("<="),
    "gt": _compare(">"), "ge": _compare(">="),
    "logical_and": _logical("&"), "logical_or": _logical("|"), "logical_xor": _logical("^"),
    "bitwise_and": _binary("({} & {})"), "bitwise_or": _binary("({} | {})"), "bitwise_xor": _binary("({} ^ {})"),
    "logical_not": lambda a, o: (f"({cast(a[0], B1)} == 0)", ()),
    "bitwise_not": lambda a, o: ((f"({cast(a[0], B1)} == 0)" if o == B1 else f"(~{cast(a[0], o)})"), ()),
    "neg": lambda a, o: (f"(-{cast(a[0], o)})", ()), "abs": lambda a, o: (f"tl.abs({cast(a[0], o)})", ()),
    "relu": lambda a, o: _maximum([a[0], literal(0)], o),
    "exp": _float_unary("tl.exp({})"), "exp2": _float_unary("tl.exp2({})"), "log": _float_unary("tl.log({})"),
    "log2": _float_unary("tl.log2({})"), "log10": _float_unary("(tl.log2({}) * 0.30102999566398120)"),
    "log1p": _float_unary("kw_log1p({})", kw_log1p), "expm1": _float_unary("kw_expm1({})", kw_expm1),
    "sqrt": _float_unary("tl.sqrt({})"), "rsqrt": _float_unary("tl.rsqrt({})"),
    "reciprocal": _float_unary("(1.0 / {})"), "sigmoid": _float_unary("tl.sigmoid({})"),
    "tanh": _float_unary("kw_tanh({})", kw_tanh, kw_expm1), "erf": _float_unary("tl.erf({})"),
    "erfc": _float_unary("(1.0 - tl.erf({}))"), "sin": _float_unary("tl.sin({})"), "cos": _float_unary("tl.cos({})"),
    "floor": lambda a, o: ((f"tl.floor({cast(a[0], F32)})" if o == F32 else a[0].expr), ()),
    "ceil": lambda a, o: ((f"tl.ceil({cast(a[0], F32)})" if o == F32 else a[0].expr), ()),
    "trunc": lambda a, o: ((f"tl.where({cast(a[0], F32)} < 0, tl.ceil({cast(a[0], F32)}), "
                            f"tl.floor({cast(a[0], F32)}))" if o == F32 else a[0].expr), ()),
    "round": lambda a, o: ((f"kw_round({cast(a[0], F32)})", (kw_round,)) if o == F32 else (a[0].expr, ())),
    "isnan": lambda a, o: (f"({a[0].expr} != {a[0].expr})", ()),
    "isinf": lambda a, o: (f"(tl.abs({cast(a[0], F32)}) == float(\"inf\"))", ()),
    "square": lambda a, o: (f"({cast(a[0], o)} * {cast(a[0], o)})", ()),
    "convert_element_type": _identity, "_to_copy": _identity, "clone": _identity, "alias": _identity,
    "lift_fresh_copy": _identity, "detach": _identity, "to": _identity,
}
