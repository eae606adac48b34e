"""View / layout nodes and SymInt arithmetic as plain Python lines of the candidate's forward.

Views stay torch views (allowed by the strict policy: no data is computed); `view` is written as
`reshape`, because the candidate's intermediates are contiguous where aten's might have been
permuted, and reshape copies (an allowed layout copy) only where a view is impossible.
SymInt nodes (sizes and their arithmetic) become Python integer expressions.
"""
from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import torch

VIEWS = {"view", "_unsafe_view", "reshape", "permute", "expand", "unsqueeze", "squeeze", "slice", "select",
         "t", "transpose", "as_strided", "split", "split_with_sizes", "unbind", "narrow", "expand_as",
         "view_as", "flatten", "unflatten", "movedim", "contiguous"}


def view_expr(name: str, args: list[Any], x: str, py: Callable[[Any], str]) -> str:
    """Python expression of a view node (`args` schema-normalised, `x` the source tensor)."""
    a = [py(v) for v in args]
    if name in ("view", "_unsafe_view", "reshape"):
        return f"{x}.reshape({a[1]})"
    if name == "permute":
        return f"{x}.permute({a[1]})"
    if name == "expand":
        return f"{x}.expand({a[1]})"
    if name == "unsqueeze":
        return f"{x}.unsqueeze({a[1]})"
    if name == "squeeze":
        return f"{x}.squeeze()" if len(args) < 2 or args[1] is None else f"{x}.squeeze({_dims(args[1], py)})"
    if name == "slice":
        return f"kw_slice({x}, {a[1]}, {a[2]}, {a[3]}, {a[4]})"
    if name == "select":
        return f"{x}.select({a[1]}, {a[2]})"
    if name == "t":
        return f"{x}.t()"
    if name == "transpose":
        return f"{x}.transpose({a[1]}, {a[2]})"
    if name == "as_strided":
        return f"{x}.as_strided({a[1]}, {a[2]}, {a[3]})"
    if name in ("split", "split_with_sizes"):
        return f"{x}.split({a[1]}, {a[2]})"
    if name == "unbind":
        return f"{x}.unbind({a[1]})"
    if name == "narrow":
        return f"{x}.narrow({a[1]}, {a[2]}, {a[3]})"
    if name in ("expand_as", "view_as"):
        return f"{x}.{'expand' if name == 'expand_as' else 'reshape'}({a[1]}.shape)"
    if name == "flatten":
        return f"{x}.flatten({a[1]}, {a[2]})"
    if name == "unflatten":
        return f"{x}.unflatten({a[1]}, {a[2]})"
    if name == "movedim":
        return f"{x}.movedim({a[1]}, {a[2]})"
    if name == "contiguous":
        return f"{x}.contiguous()"
    raise NotImplementedError(name)


def _dims(dims: Any, py: Callable[[Any], str]) -> str:
    if isinstance(dims, (list, tuple)):
        return f"tuple({py(list(dims))})"
    return py(dims)


BINARY = {operator.add: "+", operator.sub: "-", operator.mul: "*", operator.floordiv: "//",
          operator.truediv: "/", operator.mod: "%", operator.pow: "**", operator.eq: "==", operator.ne: "!=",
          operator.lt: "<", operator.le: "<=", operator.gt: ">", operator.ge: ">=", operator.and_: "and",
          operator.or_: "or"}
SYM_ATEN = {"sym_size": "{0}.shape[{1}]", "sym_stride": "{0}.stride({1})", "sym_numel": "{0}.numel()",
            "sym_storage_offset": "{0}.storage_offset()"}


def is_sym(node: torch.fx.Node) -> bool:
    """Whether a call_function node computes a Python scalar (a size, a SymInt expression)."""
    if node.op != "call_function":
        return False
    name = getattr(getattr(node.target, "overloadpacket", None), "__name__", None)
    if name is not None:
        return name in SYM_ATEN
    return node.target in BINARY or getattr(node.target, "__name__", "") in SYM_FUNCS or node.target in UNARY


UNARY = {operator.neg: "(-{0})", operator.not_: "(not {0})", operator.abs: "abs({0})"}
SYM_FUNCS = {"sym_float": "float({0})", "sym_int": "int({0})", "sym_max": "max({0}, {1})", "sym_min": "min({0}, {1})",
             "sym_not": "(not {0})", "sym_sqrt": "math.sqrt({0})", "_sym_sqrt": "math.sqrt({0})",
             "sym_ite": "({1} if {0} else {2})", "ceil": "math.ceil({0})", "floor": "math.floor({0})",
             "sym_sum": "sum({0})", "float_truediv": "({0} / {1})", "int_truediv": "({0} / {1})",
             "int_floordiv": "({0} // {1})"}


def sym_expr(node: torch.fx.Node, py: Callable[[Any], str]) -> str:
    """Python expression of a SymInt / SymFloat / SymBool node."""
    name = getattr(getattr(node.target, "overloadpacket", None), "__name__", None)
    args = [py(a) for a in node.args]
    if name in SYM_ATEN:
        return SYM_ATEN[name].format(*args)
    if node.target in BINARY:
        return f"({args[0]} {BINARY[node.target]} {args[1]})"
    if node.target in UNARY:
        return UNARY[node.target].format(*args)
    return SYM_FUNCS[node.target.__name__].format(*args)
