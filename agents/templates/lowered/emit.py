"""Captured graph -> the straight-line forward of a self-contained candidate.

Every node becomes one of: a Python scalar (sizes), a torch view, a fused pointwise kernel
(pointwise.py), a reduction (reduce.py), a scan (scan.py), a concatenation (runtime.kw_cat) or a
dense-op wrapper call (``kw_<op>`` from a ``dense_*.py`` module's WRAPPERS). A pointwise node is
*lazy* (inlined into the kernels of its users) unless something other than a pointwise node uses
it, it is returned, or it is read through a flip / gather; then it is the sink of its own kernel.
Returned tensors are fresh and contiguous: inputs, views and repeated outputs are copied by a
kernel. The emitter also collects the fixed helper objects whose source goes into the candidate.
"""
from __future__ import annotations

import inspect
import math
import operator
import re
from collections.abc import Callable
from typing import Any

import torch
import torch.fx
from kernelwright.agents.templates.lowered import reduce, runtime, scan
from kernelwright.agents.templates.lowered.capture import Capture
from kernelwright.agents.templates.lowered.generalize import InitArg, SizeOf, SizeProduct
from kernelwright.agents.templates.lowered.pointwise import ALIASES, POINTWISE, Group, overload, packet
from kernelwright.agents.templates.lowered.pointwise_ops import compute_type
from kernelwright.agents.templates.lowered.views import VIEWS, is_sym, sym_expr, view_expr


class Unsupported(ValueError):
    """The graph has an op no lowering handles; the message names it."""


def normalized(node: torch.fx.Node) -> list[Any]:
    """All schema arguments of an aten node in order (defaults filled in)."""
    schema = node.target._schema
    out, positional = [], list(node.args)
    for i, arg in enumerate(schema.arguments):
        if not arg.kwarg_only and i < len(positional):
            out.append(positional[i])
        elif arg.name in node.kwargs:
            out.append(node.kwargs[arg.name])
        else:
            out.append(arg.default_value if arg.has_default_value() else None)
    return out


class Emitter:
    """Walks the graph once, producing forward lines, generated kernels and fixed helpers."""

    def __init__(self, cap: Capture, wrappers: dict[str, tuple[Callable, tuple[Callable, ...]]]):
        self.cap, self.wrappers = cap, wrappers
        self.nodes = list(cap.graph.graph.nodes)
        self.kind = {n: self.classify(n) for n in self.nodes}
        bad = sorted({str(n.target) for n, k in self.kind.items() if k == "unsupported"})
        if bad:
            raise Unsupported(f"no lowering for {', '.join(bad)}")
        self.lazy = {n for n in self.nodes if self.kind[n] in ("pw", "const0") and not self.forced(n)}
        self.names: dict[torch.fx.Node, str] = {}
        self.fresh: dict[torch.fx.Node, bool] = {}
        self.lines: list[str] = []
        self.kernels: list[str] = []
        self.helpers: list[Callable] = [runtime.kw_leaf_strides, runtime.kw_pointwise]
        self.device = "dev"

    # ---- classification ----------------------------------------------------------------------
    def classify(self, node: torch.fx.Node) -> str:
        if node.op in ("placeholder", "output"):
            return node.op
        if node.op == "get_attr":
            value = getattr(self.cap.graph, node.target)
            return "const0" if isinstance(value, torch.Tensor) and value.dim() == 0 else "const"
        if is_sym(node):
            return "sym"
        if node.target is operator.getitem:
            return "getitem"
        name, over = packet(node), overload(node)
        if over in ALIASES or (name in POINTWISE and over not in reduce.REDUCTIONS):
            return "pw"
        if over in reduce.REDUCTIONS:
            return "reduce"
        if over in scan.SCANS:
            return "scan"
        if name in VIEWS:
            return "view"
        if name == "cat":
            return "cat"
        if name in self.wrappers:
            return "dense"
        return "unsupported"

    def forced(self, node: torch.fx.Node) -> bool:
        if packet(node) == "iota":
            return True
        for user in node.users:
            if self.kind[user] not in ("pw",):
                return True
            if packet(user) in ("rev", "gather") and user.args[0] is node:
                return True
        return False

    # ---- the context pointwise.Group uses ------------------------------------------------------
    def is_lazy(self, node: torch.fx.Node) -> bool:
        return node in self.lazy

    def var(self, node: torch.fx.Node) -> str:
        return self.names[node]

    def dtype(self, node: torch.fx.Node) -> torch.dtype:
        if node.op == "get_attr":
            return getattr(self.cap.graph, node.target).dtype
        val = node.meta["val"]
        return (val[0] if isinstance(val, (tuple, list)) else val).dtype

    def rank(self, node: torch.fx.Node) -> int:
        return len(node.meta["val"].shape)

    def constant(self, node: torch.fx.Node) -> Any:
        return getattr(self.cap.graph, node.target).item()

    def normalized(self, node: torch.fx.Node) -> list[Any]:
        return normalized(node)

    def shape(self, node: torch.fx.Node) -> str:
        """Python expression of a node's shape at run time."""
        if node in self.names and node not in self.lazy:
            return f"{self.names[node]}.shape"
        if node.op == "get_attr":
            return "()"
        name, args = packet(node), normalized(node)
        if name in ("full", "zeros", "ones", "new_full", "new_zeros", "new_ones"):
            return f"tuple({self.py(args[1] if name.startswith('new_') else args[0])})"
        if name == "scalar_tensor":
            return "()"
        if name in ("full_like", "zeros_like", "ones_like", "fill", "rev"):
            return self.shape(args[0])
        if name == "gather":
            return self.shape(args[2])
        shapes = list(dict.fromkeys(self.shape(a) for a in args
                                    if isinstance(a, torch.fx.Node) and isinstance(a.meta.get("val"), torch.Tensor)))
        if not shapes:
            return "()"
        return shapes[0] if len(shapes) == 1 else f"torch.broadcast_shapes({', '.join(shapes)})"

    def py(self, arg: Any) -> str:
        """A non-tensor argument (or a tensor's variable) as Python source."""
        if isinstance(arg, torch.fx.Node):
            return self.names[arg]
        if isinstance(arg, SizeOf):
            tensor = self.names[self.cap.placeholders[arg.index]]
            return "(" + " * ".join(f"{tensor}.shape[{d}]" for d in arg.dims()) + ")"
        if isinstance(arg, SizeProduct):
            return "(" + " * ".join(self.py(f) for f in arg.factors) + ")"
        if isinstance(arg, InitArg):
            return f"self.kw_init_args[{arg.index}]" + ("" if arg.item is None else f"[{arg.item}]")
        if isinstance(arg, (list, tuple)):
            return "[" + ", ".join(self.py(a) for a in arg) + "]"
        if isinstance(arg, float) and not math.isfinite(arg):
            return f'float("{arg}")'
        if isinstance(arg, torch.dtype):
            return str(arg)
        if isinstance(arg, torch.device):
            return self.device
        if isinstance(arg, (torch.layout, torch.memory_format)):
            return str(arg)
        return repr(arg)

    # ---- emission ----------------------------------------------------------------------------
    def name_for(self, node: torch.fx.Node) -> str:
        return "v_" + re.sub(r"\W", "_", node.name)

    def emit(self) -> None:
        placeholders = self.cap.placeholders
        for node in self.nodes:
            getattr(self, f"emit_{self.kind[node]}")(node)
            if placeholders and node is placeholders[-1]:
                inputs = ([self.names[p] for p in placeholders[len(self.cap.state_names):]]
                          or [self.names[placeholders[0]]])
                self.lines.append(f"{self.device} = {inputs[0]}.device")

    def emit_placeholder(self, node: torch.fx.Node) -> None:
        i = self.cap.placeholders.index(node)
        n_state = len(self.cap.state_names)
        if i < n_state:
            state = self.cap.state_names[i]
            getter = "get_parameter" if i < self.cap.n_params else "get_buffer"
            self.names[node] = self.name_for(node)
            self.lines.append(f"{self.names[node]} = self.{getter}({state!r})")
        else:
            self.names[node] = self.cap.input_names[i - n_state]
        self.fresh[node] = False

    def emit_const0(self, node: torch.fx.Node) -> None:
        if node not in self.lazy:
            self.emit_const(node)

    def emit_const(self, node: torch.fx.Node) -> None:
        value = getattr(self.cap.graph, node.target)
        if value.numel() > 4096:
            raise Unsupported(f"a constant tensor of {value.numel()} elements in the forward")
        self.assign(node, f"torch.tensor({value.tolist()!r}, dtype={value.dtype}, device={self.device})", True)

    def emit_sym(self, node: torch.fx.Node) -> None:
        self.assign(node, sym_expr(node, self.py), False)

    def emit_getitem(self, node: torch.fx.Node) -> None:
        src, index = node.args
        self.assign(node, f"{self.names[src]}[{index}]", self.fresh.get(src, False) and self.kind[src] != "view")

    def emit_view(self, node: torch.fx.Node) -> None:
        args = normalized(node)
        if packet(node) == "slice":
            self.use(runtime.kw_slice)
        self.assign(node, view_expr(packet(node), args, self.names[args[0]], self.py), False)

    def emit_pw(self, node: torch.fx.Node) -> None:
        if node in self.lazy:
            return
        group = Group(self, f"kw_k{len(self.kernels)}_{re.sub(r'[^0-9a-zA-Z]', '_', node.name)}", self.rank(node))
        self.finish_group(node, group, group.sink(node))

    def finish_group(self, node: torch.fx.Node, group: Group, root: Any) -> None:
        self.kernels.append(group.kernel(root, "out.dtype.element_ty"))
        for helper in group.helpers:
            if helper not in self.helpers:
                self.helpers.append(helper)
        if any("kw_gather_view" in t for _, t, _ in group.leaves) and runtime.kw_gather_view not in self.helpers:
            self.helpers.append(runtime.kw_gather_view)
        name = self.name_for(node)
        self.lines.append(f"{name} = torch.empty({group.out_shape()}, dtype={self.dtype(node)}, device={self.device})")
        self.lines.append(group.launch(name))
        self.names[node], self.fresh[node] = name, True

    def emit_reduce(self, node: torch.fx.Node) -> None:
        args = dict(zip([a.name for a in node.target._schema.arguments], normalized(node)))
        self.use(*reduce.KERNELS)
        self.assign(node, reduce.render(overload(node), args, self.names[args["self"]], str(self.dtype(node)), self.py),
                    True)

    def emit_scan(self, node: torch.fx.Node) -> None:
        args = dict(zip([a.name for a in node.target._schema.arguments], normalized(node)))
        self.use(*scan.KERNELS)
        self.assign(node, scan.render(overload(node), args, self.names[args["self"]], str(self.dtype(node)), self.py),
                    True)

    def emit_cat(self, node: torch.fx.Node) -> None:
        tensors, dim = normalized(node)[:2]
        self.use(runtime.kw_copy3d_kernel, runtime.kw_cat)
        self.assign(node, f"kw_cat({self.py(tensors)}, {self.py(dim)}, {self.dtype(node)}, KW_PW_BLOCK, KW_PW_WARPS)",
                    True)

    def emit_dense(self, node: torch.fx.Node) -> None:
        wrapper, kernels = self.wrappers[packet(node)]
        self.use(*kernels, wrapper)
        schema = node.target._schema.arguments
        values = normalized(node)
        positional = [self.py(v) for a, v in zip(schema, values) if not a.kwarg_only]
        keywords = [f"{a.name}={self.py(v)}" for a, v in zip(schema, values)
                    if a.kwarg_only and a.has_default_value() and v != a.default_value]
        if "fp32_dot" in inspect.signature(wrapper).parameters:
            keywords.append("fp32_dot=KW_FP32_DOT")
        self.assign(node, f"{wrapper.__name__}({', '.join(positional + keywords)})", True)

    def emit_output(self, node: torch.fx.Node) -> None:
        seen: set[torch.fx.Node] = set()

        def returned(out: Any) -> str:
            if isinstance(out, (list, tuple)):
                return "(" + "".join(returned(o) + ", " for o in out) + ")"
            if not isinstance(out, torch.fx.Node) or out in self.lazy:
                raise Unsupported(f"the forward returns a non-tensor or constant value ({out})")
            fresh = self.fresh.get(out) and out not in seen
            seen.add(out)
            return self.names[out] if fresh else self.copy(out)

        self.lines.append("return " + returned(node.args[0]))

    def copy(self, node: torch.fx.Node) -> str:
        """A kernel copy of a returned input, view or repeated output into a fresh contiguous tensor."""
        var = self.names[node]
        group = Group(self, f"kw_k{len(self.kernels)}_copy_{re.sub(r'[^0-9a-zA-Z]', '_', node.name)}", self.rank(node))
        ty = compute_type(self.dtype(node))
        root = group.leaf(("copy", node), var, "()", f"{var}.shape", ty)
        self.kernels.append(group.kernel(root, "out.dtype.element_ty"))
        name = f"{self.name_for(node)}_out"
        self.lines.append(f"{name} = torch.empty({var}.shape, dtype={self.dtype(node)}, device={self.device})")
        self.lines.append(group.launch(name))
        return name

    # ---- helpers -----------------------------------------------------------------------------
    def assign(self, node: torch.fx.Node, expr: str, fresh: bool) -> None:
        name = self.name_for(node)
        self.lines.append(f"{name} = {expr}")
        self.names[node], self.fresh[node] = name, fresh

    def use(self, *objects: Callable) -> None:
        for obj in objects:
            if obj not in self.helpers:
                self.helpers.append(obj)
