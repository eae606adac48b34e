"""Make a captured graph generic in the problem's constants (sizes, kernel sizes, strides, ...).

Symbolic tracing keeps input sizes symbolic, but two kinds of numbers still end up as literals in
the graph: sizes that tracing had to fix (a guard such as ``C == num_features`` in a norm layer, a
``view(-1, FEATURES)`` with a module constant) and constructor hyper-parameters (a pooling
window, a convolution stride, a reduction dim). The verifier re-runs a problem with its integer
module constants perturbed, so such a literal must be recomputed from what the candidate sees at
run time.

How: capture the forward a second time with every integer module constant (>= 2) changed, and
"anti-unify" the two graphs. They must have the same nodes in the same order; where an argument
literal differs between the two, it is replaced by a marker that gives the right value in both
captures: `SizeOf(i, d)` (size d of placeholder i, preferring the forward's inputs) or
`SizeOf(i, d, e)` (the product of sizes d..e-1, a flattening view),
`InitArg(k[, j])` (the constructor's k-th argument, or its j-th item), and last
`SizeProduct` (sizes of two placeholders multiplied, e.g. batch x channels). A literal that neither
explains, or a graph whose structure changes (e.g. a layer count), makes the capture fail: the
program could not be right at other sizes. When no constant can be perturbed (the problem
would not build), the first capture is used as it is.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
import torch.fx
from kernelwright.agents.templates.lowered.capture import Capture, CaptureError, capture, problem_module
from kernelwright.verifier.problem import load_problem
from kernelwright.verifier.shrink import with_derived


@dataclass(frozen=True)
class SizeOf:
    """Size `dim` of placeholder `index` at run time; with `stop`, the product of sizes dim..stop-1
    (a flattening view such as nn.Linear's ``view(B * N, K)`` of a 3-D input)."""

    index: int
    dim: int
    stop: int | None = None

    def dims(self) -> range:
        return range(self.dim, self.stop if self.stop is not None else self.dim + 1)

    def value(self, cap: Capture) -> Any:
        shape = cap.shapes[self.index]
        return math.prod(shape[d] for d in self.dims()) if self.dims()[-1] < len(shape) else None


@dataclass(frozen=True)
class InitArg:
    """The constructor's argument `index` (or its item `item`) at run time."""

    index: int
    item: int | None = None

    def value(self, cap: Capture) -> Any:
        if self.index >= len(cap.init_args):
            return None
        arg = cap.init_args[self.index]
        if self.item is None:
            return arg
        return arg[self.item] if isinstance(arg, (list, tuple)) and self.item < len(arg) else None


@dataclass(frozen=True)
class SizeProduct:
    """The product of sizes of two placeholders at run time: instance norm's ``view(1, N * C, ...)``
    multiplies the input's batch by the channel count of a weight."""

    factors: tuple[SizeOf, SizeOf]

    def value(self, cap: Capture) -> Any:
        values = [f.value(cap) for f in self.factors]
        return None if None in values else math.prod(values)


MARKERS = (SizeOf, InitArg, SizeProduct)


def perturbed(value: int) -> int:
    """A different size of the other parity's neighbour: even n -> n + 1, odd n -> n + 2."""
    return value + 1 if value % 2 == 0 else value + 2


def constants(source: str) -> dict[str, int]:
    """Integer module constants (>= 2) of the problem, the ones a perturbation may change."""
    module = problem_module(source)
    return {k: v for k, v in vars(module).items()
            if not k.startswith("_") and isinstance(v, int) and not isinstance(v, bool) and v >= 2}


def capture_generic(source: str) -> Capture:
    """Capture the forward and tie every constant-dependent literal to a run-time value."""
    base = capture(source)
    found = constants(source)
    if not found:
        return base
    problem = load_problem(source)
    every = {k: perturbed(v) for k, v in found.items()}
    singles = [[{k: perturbed(v)}, {k: v - 1}] for k, v in found.items()]  # v - 1: e.g. a dim index at its top
    trials = [[every]] + (singles if len(found) > 1 else [singles[0][1:]])
    for alternatives in trials:
        for overrides in alternatives:
            try:
                other = capture(source, with_derived(problem, overrides))  # derived tuples follow
            except CaptureError:
                continue  # this perturbation does not build or trace: try the next one
            unify(base, other, ", ".join(sorted(overrides)))
            break
        else:
            continue
        if alternatives[0] is every:
            break  # all constants changed at once: every dependent literal is tied already
    return base


def unify(base: Capture, other: Capture, changed: str) -> None:
    """Replace the literals of `base` that differ in `other` by markers (in place)."""
    nodes_a = list(base.graph.graph.nodes)
    nodes_b = list(other.graph.graph.nodes)
    index = {n: i for i, n in enumerate(nodes_b)}
    if len(nodes_a) != len(nodes_b) or any(
            (a.op, a.target) != (b.op, b.target) for a, b in zip(nodes_a, nodes_b)):
        raise CaptureError(f"the graph's structure changes with the constants ({changed}); "
                           "no single program fits every size")
    order = {n: i for i, n in enumerate(nodes_a)}
    for a, b in zip(nodes_a, nodes_b):
        where = f"{a.target} ({a.name})"
        if a.op == "get_attr":
            if not _same_tensor(getattr(base.graph, a.target), getattr(other.graph, b.target)):
                raise CaptureError(f"a constant tensor of the forward changes with the constants ({changed})")
            continue
        ctx = (base, other, order, index, where, changed)
        a.args = _unify(a.args, b.args, ctx)
        a.kwargs = _unify(a.kwargs, b.kwargs, ctx)


def _same_tensor(x: Any, y: Any) -> bool:
    if not (isinstance(x, torch.Tensor) and isinstance(y, torch.Tensor)):
        return x == y
    return x.shape == y.shape and x.dtype == y.dtype and bool((x == y).all())


def _unify(a: Any, b: Any, ctx: tuple) -> Any:
    base, other, order, index, where, changed = ctx
    if isinstance(a, torch.fx.Node):
        if not isinstance(b, torch.fx.Node) or order[a] != index[b]:
            raise CaptureError(f"the graph's wiring changes with the constants ({changed}) at {where}")
        return a
    if isinstance(a, (list, tuple)):
        if not isinstance(b, (list, tuple)) or len(a) != len(b):
            raise CaptureError(f"an argument of {where} changes length with the constants ({changed})")
        return type(a)(_unify(x, y, ctx) for x, y in zip(a, b))
    if isinstance(a, dict):
        if not isinstance(b, dict) or set(a) != set(b):
            raise CaptureError(f"the keyword arguments of {where} change with the constants ({changed})")
        return {k: _unify(a[k], b[k], ctx) for k in a}
    if isinstance(a, MARKERS):
        if a.value(other) != b:
            raise CaptureError(f"a size-dependent argument of {where} is not {a} at constants ({changed})")
        return a
    if type(a) is type(b) and (a == b or (isinstance(a, float) and math.isnan(a) and math.isnan(b))):
        return a
    if isinstance(a, (int, float)) and not isinstance(a, bool) and isinstance(b, (int, float)):
        marker = _explain(a, b, base, other)
        if marker is not None:
            return marker
    raise CaptureError(f"literal {a!r} in {where} becomes {b!r} when the constants ({changed}) change, and is "
                       "neither an input size nor a constructor argument")


def _explain(a: Any, b: Any, base: Capture, other: Capture) -> SizeOf | InitArg | SizeProduct | None:
    """The first marker whose value is `a` in `base` and `b` in `other`."""
    n_state = len(base.state_names)
    order = list(range(n_state, len(base.shapes))) + list(range(n_state))  # forward inputs first
    candidates: list[SizeOf | InitArg | SizeProduct] = []
    singles = [SizeOf(i, d) for i in order for d in range(len(base.shapes[i]))]
    if isinstance(a, int):
        candidates += singles
        candidates += [SizeOf(i, d, e) for i in order for d in range(len(base.shapes[i]))
                       for e in range(d + 2, len(base.shapes[i]) + 1)]
    for k, arg in enumerate(base.init_args):
        if isinstance(arg, (list, tuple)):
            candidates += [InitArg(k, j) for j in range(len(arg))]
        else:
            candidates.append(InitArg(k))
    if isinstance(a, int):
        candidates += [SizeProduct((x, y)) for n, x in enumerate(singles) for y in singles[n + 1:]
                       if x.index != y.index]
    for marker in candidates:
        va, vb = marker.value(base), marker.value(other)
        if _number(va) and _number(vb) and va == a and vb == b:
            return marker
    return None


def _number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)
