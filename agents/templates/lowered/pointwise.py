"""One generated Triton kernel per fused group of pointwise nodes.

A group is a sink node that must exist as a tensor (see emit.py: used by a non-pointwise node or
returned) plus every lazy pointwise node it reaches through pointwise nodes. The kernel walks the
sink's output in BLOCK-element chunks of its flat index, splits the index into coordinates and
loads each leaf (a materialised tensor) through run-time strides right-aligned to the output
(`runtime.kw_leaf_strides`: stride 0 on broadcast dims, negated on flipped dims), so broadcasting,
views and `prims.rev` cost no copy. `gather` is an indirect leaf load. Values are computed in
float32 (int32 / int64 / int1 for integers and bools) and stored in the output's dtype.
Only the body lines are rendered; the launcher (`runtime.kw_pointwise`) is fixed code.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.fx
from kernelwright.agents.templates.lowered.pointwise_ops import (
    B1,
    F32,
    I64,
    OPS,
    Val,
    cast,
    compute_type,
    literal,
)

CONSTANTS = {"full", "scalar_tensor", "full_like", "zeros_like", "ones_like", "zeros", "ones", "new_full",
             "new_zeros", "new_ones", "fill"}
SPECIAL = {"rev", "gather", "iota"}
POINTWISE = set(OPS) | CONSTANTS | SPECIAL


ALIASES = {"max.other": "maximum", "min.other": "minimum"}  # binary overloads of reduction packets


def packet(node: torch.fx.Node) -> str:
    """aten overload-packet name of a call_function node ('' for Python callables)."""
    return getattr(getattr(node.target, "overloadpacket", None), "__name__", "")


def overload(node: torch.fx.Node) -> str:
    """'packet.overload' of an aten node, e.g. 'sum.dim_IntList'."""
    return f"{packet(node)}.{getattr(node.target, '_overloadname', 'default')}"


def constant_value(node: torch.fx.Node, args: list[Any]) -> Any:
    """The fill value of a constant-creating node."""
    name = packet(node)
    if name in ("zeros_like", "zeros", "new_zeros"):
        return 0
    if name in ("ones_like", "ones", "new_ones"):
        return 1
    if name == "scalar_tensor":
        return args[0]
    if name == "new_full":
        return args[2]
    return args[1]  # full(size, value), full_like(x, value), fill(x, value)


class Group:
    """Builds the kernel of one sink; `ctx` is the emitter (see emit.Emitter for the methods used)."""

    def __init__(self, ctx: Any, name: str, rank: int):
        self.ctx, self.name, self.rank = ctx, name, rank
        self.leaves: list[tuple[Any, str, str]] = []   # (key, tensor expression, flips expression)
        self.scalars: list[tuple[str, str]] = []       # (python expression, triton type)
        self.lines: list[str] = []
        self.helpers: list[Callable] = []
        self.shapes: list[str] = []
        self.memo: dict[Any, Val] = {}

    # ---- operands --------------------------------------------------------------------------
    def coords(self, strides: str) -> str:
        terms = [f"c{d} * {strides}{d}" for d in range(self.rank)]
        return " + ".join(terms) if terms else "offs * 0"

    def leaf(self, key: Any, tensor: str, flips: str, shape: str, ty: str, extra: str = "") -> Val:
        if (key, extra) in self.memo:
            return self.memo[(key, extra)]
        i = len(self.leaves)
        self.leaves.append((key, tensor, flips))
        self.shapes.append(shape)
        self.lines.append(f"x{i} = tl.load(in{i} + in{i}_o + {self.coords(f'in{i}_s')}{extra}, mask=mask, other=0)"
                          f".to({ty})")
        val = self.memo[(key, extra)] = Val(f"x{i}", ty)
        return val

    def scalar(self, expr: str, ty: str) -> Val:
        for k, (e, t) in enumerate(self.scalars):
            if e == expr and t == ty:
                return Val(f"sc{k}", ty)
        k = len(self.scalars)
        self.scalars.append((expr, ty))
        self.lines.append(f"sc{k} = tl.zeros((BLOCK,), {ty}) + a{k}")
        return Val(f"sc{k}", ty)

    def operand(self, arg: Any) -> Val:
        """A node argument as a typed value: tensors by value(), Python scalars as literals or args."""
        if isinstance(arg, torch.fx.Node):
            meta = arg.meta.get("val")
            if isinstance(meta, torch.Tensor):
                return self.value(arg)
            ty = (F32 if isinstance(meta, (float, torch.SymFloat))
                  else B1 if isinstance(meta, (bool, torch.SymBool)) else I64)
            return self.scalar(self.ctx.py(arg), ty)
        if arg is None or isinstance(arg, (bool, int, float, str)):
            return literal(arg)
        if isinstance(arg, torch.dtype):
            return Val(repr(arg), "none", True, arg)
        if isinstance(arg, (torch.device, torch.layout, torch.memory_format)):
            return Val("None", "none", True, None)
        if isinstance(arg, (list, tuple)):
            return Val("None", "none", True, arg)
        return self.scalar(self.ctx.py(arg), I64)  # a marker (a size or constructor argument)

    # ---- values ----------------------------------------------------------------------------
    def value(self, node: torch.fx.Node) -> Val:
        if node in self.memo:
            return self.memo[node]
        ctx = self.ctx
        ty = compute_type(ctx.dtype(node))
        if node.op == "get_attr" and ctx.is_lazy(node):
            val = literal(ctx.constant(node))
            val = Val(cast(val, ty), ty, True, val.value)
            self.shapes.append("()")
        elif not ctx.is_lazy(node):
            val = self.leaf(node, ctx.var(node), "()", f"{ctx.var(node)}.shape", ty)
        else:
            val = self.compute(node, ty)
        self.memo[node] = val
        return val

    def sink(self, node: torch.fx.Node) -> Val:
        """The value of the group's sink (computed here even though it is not lazy)."""
        val = self.memo[node] = self.compute(node, compute_type(self.ctx.dtype(node)))
        return val

    def compute(self, node: torch.fx.Node, ty: str) -> Val:
        ctx, name = self.ctx, ALIASES.get(overload(node), packet(node))
        args = ctx.normalized(node)
        if name == "rev":
            src, dims = args[0], args[1]
            rank = ctx.rank(src)
            flips = tuple(sorted(int(d) % max(rank, 1) for d in dims))
            return self.leaf((src, flips), ctx.var(src), repr(flips), f"{ctx.var(src)}.shape", ty)
        if name == "gather":
            src, dim, index = args[0], int(args[1]), args[2]
            idx = self.operand(index)
            shape = ctx.shape(index)
            stride = self.scalar(f"{ctx.var(src)}.stride({dim})", I64)
            return self.leaf((src, "gather", index), f"kw_gather_view({ctx.var(src)}, {dim}, {shape})", "()", shape,
                             ty, extra=f" + {cast(idx, I64)} * {stride.expr}")
        if name == "iota":
            start, step = self.operand(args[1]), self.operand(args[2])
            self.shapes.append(f"({ctx.py(args[0])},)")
            return self.bind(f"({cast(start, ty)} + {cast(step, ty)} * c0.to({ty}))", ty)
        if name in CONSTANTS:
            self.shapes.append(ctx.shape(node))
            val = self.operand(constant_value(node, args))
            return Val(cast(val, ty), ty, val.literal, val.value) if val.literal else self.bind(cast(val, ty), ty)
        vals = [self.operand(a) for a in args]
        expr, helpers = OPS[name](vals, ty)
        for h in helpers:
            if h not in self.helpers:
                self.helpers.append(h)
        return self.bind(expr, ty)

    def bind(self, expr: str, ty: str) -> Val:
        k = len(self.lines)
        self.lines.append(f"v{k} = {expr}")
        return Val(f"v{k}", ty)

    # ---- kernel and launch -----------------------------------------------------------------
    def kernel(self, root: Val, store_ty: str) -> str:
        """Source of the generated @triton.jit kernel."""
        params = ["out"] + [f"in{i}" for i in range(len(self.leaves))] + [f"a{k}" for k in range(len(self.scalars))]
        params += ["numel"] + [f"sz{d}" for d in range(self.rank)] + [f"o_s{d}" for d in range(self.rank)]
        for i in range(len(self.leaves)):
            params += [f"in{i}_s{d}" for d in range(self.rank)] + [f"in{i}_o"]
        body = ["offs = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)", "mask = offs < numel"]
        if self.rank:
            body.append("rem = offs")
            for d in range(self.rank - 1, 0, -1):
                body += [f"c{d} = rem % sz{d}", f"rem = rem // sz{d}"]
            body.append("c0 = rem")
        body += self.lines
        result = f"(tl.zeros((BLOCK,), {root.ty}) + {root.expr})" if root.literal else root.expr
        body.append(f"tl.store(out + {self.coords('o_s')}, ({result}).to({store_ty}), mask=mask)")
        lines = ["@triton.jit", f"def {self.name}({', '.join(params)}, BLOCK: tl.constexpr):"]
        return "\n".join(lines + ["    " + b for b in body]) + "\n"

    def launch(self, out: str) -> str:
        """Python line launching the kernel into the tensor named `out`."""
        leaves = ", ".join(f"({t}, {f})" for _, t, f in self.leaves)
        scalars = ", ".join(e for e, _ in self.scalars)
        return f"kw_pointwise({self.name}, {out}, [{leaves}], [{scalars}], KW_PW_BLOCK, KW_PW_WARPS)"

    def out_shape(self) -> str:
        """Python expression of the output shape: the broadcast of every operand's shape."""
        shapes = list(dict.fromkeys(self.shapes)) or ["()"]
        return shapes[0] if len(shapes) == 1 else f"torch.broadcast_shapes({', '.join(shapes)})"
