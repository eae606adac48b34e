"""Automatic small shapes for the CPU: shrink a problem's module-level size constants.

KernelBench problems declare no SMALL_SHAPE, and at full size the reference alone takes minutes on
the CPU (the Triton interpreter far longer). `auto_small_shape` returns constant overrides such
that every input tensor has at most MAX_INPUT_ELEMENTS (16k) elements and the forward costs at most
MAX_FLOPS (2.5 MFLOP: a few ms of eager PyTorch, seconds of interpreted Triton), where the fixed
constants allow it.

Rule: while over budget, halve the free constant shrunk least so far (value / original; ties: the
larger, then by name), first down to 16, then to 2, so shapes keep their proportions; each step is
measured on fake tensors and skipped if it breaks a kept relation, the forward, or saves nothing.

- Constants: module-level ints, and ints inside tuples (``input_shape = (4096,)``). One assigned an
  expression of other names (``head_dim = hidden // heads``) is recomputed, never chosen.
- Fixed: values <= KEEP_AT_MOST (8: kernel sizes, strides, dims, small head counts; not batch sizes), names like
  kernel/stride/padding/dilation/groups/window, and the problem's FIXED_DIMS.
- Kept relations: every ``A % B == 0`` between constants at full size (so equal constants stay
  equal), and ``A == B * C`` (hidden = heads * head_dim), which makes A follow B and C.
- Odd values halve to odd values, so ragged tails stay ragged (unless a relation rounds them).
- A ``A == B * C`` relation is kept only when A cannot move alone but can with B (or C): powers of
  two make many coincidental products.
- The result is built and run once on the CPU (``inputs._builds``); if that fails the shrink backs
  off: earlier, larger steps first, then shrinking without one constant at a time; else {}.
Measuring runs on FakeTensorMode (no memory), so a 4096^3 problem costs milliseconds; results are
cached per source hash.

The same classification decides which constants an extra-shape trial may perturb (`perturbable`):
the shrinkable ones, less those whose names say they define the computation (COMPUTE_NAME: head
dim, channels, features, hidden / embedding width, `dim`), which a kernel may legitimately support
only at the problem's value.
"""
from __future__ import annotations

import ast
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import torch

from .problem import _SIMPLE_KEYS, Problem, source_sha

MAX_INPUT_ELEMENTS = 1 << 14  # per input tensor
MAX_FLOPS = 2_500_000  # whole forward; matmul/conv by torch's formulas, else one per output element
KEEP_AT_MOST = 8  # constants this small define the computation: never shrunk
FLOORS = (16, 2)  # shrink to no less than 16 first; below that only while still over budget
BATCH_NAME = re.compile(r"batch", re.IGNORECASE)  # a batch of 8 is still free: it defines no computation
FIXED_NAME = re.compile(r"kernel|stride|padding|^pad|_pad|dilation|groups?$|window", re.IGNORECASE)
COMPUTE_NAME = re.compile(r"head_?(dim|embd|size)|embd|embed|hidden|channel|feature|d_model|^dim$|_dim$|^[dc]$|"
                          r"vocab|expert|intermediate|ffn", re.IGNORECASE)
_CHECK_REAL_UP_TO = 100  # verify on the CPU only results within 100x the budget (else trust fakes)
_CACHE: dict[tuple[str, tuple[str, ...]], dict[str, Any]] = {}


@dataclass
class _Constants:
    """A problem's size constants: `values` by key ("N" or "input_shape[0]")."""

    values: dict[str, int]
    tuples: dict[str, type] = field(default_factory=dict)      # names of tuple/list constants
    derived: list[tuple[str, str]] = field(default_factory=list)  # (name, expression) in source order
    namespace: dict[str, Any] = field(default_factory=dict)     # the executed module's globals


def auto_small_shape(problem: Problem) -> dict[str, Any]:
    """Overrides of module constants that make the problem small for the CPU; {} when none help."""
    fixed = fixed_names(problem)
    key = (source_sha(problem.source), tuple(sorted(fixed)))
    if key not in _CACHE:
        _CACHE[key] = _shrink(problem, fixed)
    return dict(_CACHE[key])


def shrinkable(name: str, value: int, fixed: set[str]) -> bool:
    """Whether the CPU shrink may change a size constant (`fixed`: the problem's FIXED_DIMS)."""
    return ((value > KEEP_AT_MOST or (value > 2 and bool(BATCH_NAME.search(name))))
            and not FIXED_NAME.search(name) and name.split("[")[0] not in fixed)


def perturbable(name: str, value: int, fixed: set[str]) -> bool:
    """Whether an extra-shape trial may change a size constant: a free dim (batch, sequence, rows,
    tokens, spatial), not one that defines the computation (head dim, channels, hidden width)."""
    return shrinkable(name, value, fixed) and not COMPUTE_NAME.search(name.split("[")[0])


def fixed_names(problem: Problem) -> set[str]:
    """FIXED_DIMS from the metadata, or from the source when the Problem was not loaded."""
    declared = problem.metadata.get("fixed_dims")
    if declared is None:
        try:
            declared = next((ast.literal_eval(value) for name, value in _assignments(ast.parse(problem.source))
                             if name == "FIXED_DIMS"), None)
        except (SyntaxError, ValueError):
            declared = None
    return {str(name) for name in declared or []}


def _shrink(problem: Problem, fixed: set[str]) -> dict[str, Any]:
    try:
        consts = _scan(problem)
    except Exception:  # noqa: BLE001 - a problem that does not even load is the loader's business
        return {}
    start = _measure(problem, {})
    if start is None or _within(start):
        return {}
    free = {k for k, v in consts.values.items() if shrinkable(k, v, fixed)}
    for skipped in [None, *sorted(free, key=lambda k: (-consts.values[k], k))][:6]:
        history = _greedy(problem, consts, free - {skipped}, start)
        for values, cost in reversed(history[1:]):
            overrides = _overrides(consts, values)
            if _verified(problem, overrides, cost):
                return overrides
    return {}


def _scan(problem: Problem) -> _Constants:
    """Module-level int constants (alone or in tuples) and the expressions derived from them."""
    module = problem.module()
    consts = _Constants(values={}, namespace=dict(vars(module)))
    pairs = list(_assignments(ast.parse(problem.source)))
    names = [name for name, _ in pairs]
    for name, node in pairs:
        value = getattr(module, name, None)
        if name.startswith("_") or name in _SIMPLE_KEYS or names.count(name) > 1:
            continue  # private, metadata, or reassigned: leave alone
        if any(isinstance(n, ast.Name) for n in ast.walk(node)):
            consts.derived.append((name, ast.unparse(node)))
        elif isinstance(value, int) and _is_int(value):
            consts.values[name] = value
        elif isinstance(value, (tuple, list)) and value and all(_is_int(v) for v in value):
            consts.tuples[name] = type(value)
            consts.values.update({f"{name}[{i}]": v for i, v in enumerate(value)})
    return consts


def _assignments(tree: ast.Module) -> Iterator[tuple[str, ast.expr]]:
    """(name, value expression) of the module-level assignments; `a = b = 1` and `a, b = 1, 2` split."""
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        for target in targets:
            if isinstance(target, ast.Name):
                yield target.id, value
            elif isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple) and len(target.elts) == len(value.elts):
                yield from ((t.id, v) for t, v in zip(target.elts, value.elts) if isinstance(t, ast.Name))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _greedy(problem: Problem, consts: _Constants, free: set[str],
            start: tuple[int, float | None]) -> list[tuple[dict[str, int], tuple[int, float | None]]]:
    """Halve the largest free constant while over budget; the accepted states with their costs."""
    orig = consts.values
    products = _products(problem, consts, free, start)
    pairs = [(a, b) for a in orig for b in orig if a != b and orig[b] >= 2 and orig[a] % orig[b] == 0]
    values = dict(orig)
    history = [(values, start)]
    for floor in FLOORS:
        while not _within(history[-1][1]):
            order = sorted({k for k in free if k not in products and _half(values[k]) >= floor},
                           key=lambda k: (-values[k] / orig[k], -values[k], k))
            for key in order:
                step = {k: _half(values[key]) for k in order if orig[k] == orig[key]}  # equal ones stay equal
                proposal = _repair({**values, **step}, orig, free, products, pairs)
                if proposal is None or proposal == values or any(proposal[k] > values[k] for k in values):
                    continue
                cost = _measure(problem, _overrides(consts, proposal))
                if cost is not None and _smaller(cost, history[-1][1]):  # an unused constant stays
                    values = proposal
                    history.append((values, cost))
                    break
            else:
                break  # nothing left to shrink above this floor
    return history


def _half(n: int) -> int:
    half = n // 2
    return max(2, half | 1 if n % 2 else half)


def _products(problem: Problem, consts: _Constants, free: set[str],
              start: tuple[int, float | None]) -> dict[str, tuple[str, str]]:
    """Free constants that must stay the product of two others (hidden = heads * head_dim): A = B * C
    at full size, A cannot move alone, and A moves with B (or C) halved. Products are tested rather
    than assumed, because powers of two make many coincidental ones (64 = stride * channels)."""
    orig = consts.values
    found: dict[str, tuple[str, str]] = {}
    for a in sorted(free, key=lambda k: (orig[k], k)):
        tokens = set(re.split(r"[_\d\[\]]+", a.lower()))
        options = sorted(((b, c) for b in orig for c in orig
                          if b < c and a not in (b, c) and orig[b] >= 2 and orig[c] >= 2
                          and orig[b] * orig[c] == orig[a]),
                         key=lambda bc: (-len(tokens & set(re.split(r"[_\d\[\]]+", " ".join(bc).lower()))), bc))
        if not options:
            continue
        alone = _measure(problem, _overrides(consts, {**orig, a: _half(orig[a])}))
        if alone is not None and (alone[1] is not None or start[1] is None):
            continue  # A moves on its own: no product to keep
        for b, c in options:
            for f, g in ((b, c), (c, b)):
                if f in free and orig[f] % 2 == 0 and _measure(
                        problem, _overrides(consts, {**orig, f: orig[f] // 2, a: orig[f] // 2 * orig[g]})) is not None:
                    found[a] = (b, c)
                    break
            if a in found:
                break
    return found


def _repair(values: dict[str, int], orig: dict[str, int], free: set[str], products: dict[str, tuple[str, str]],
            pairs: list[tuple[str, str]]) -> dict[str, int] | None:
    """Restore products and divisibility after a step (smaller constants first); None if impossible."""
    out = dict(values)
    divisors = {a: [b for x, b in pairs if x == a and orig[b] < orig[a]] for a in orig}
    for key in sorted(orig, key=lambda k: (orig[k], k)):
        if key in products:
            b, c = products[key]
            out[key] = out[b] * out[c]
        elif key in free:
            step = math.lcm(*[out[b] for b in divisors[key]]) if divisors[key] else 1
            out[key] = max(step, out[key] // step * step)
    if any(out[k] < 1 for k in free) or any(out[a] % out[b] for a, b in pairs):
        return None
    return out


def with_derived(problem: Problem, changes: dict[str, int]) -> dict[str, Any]:
    """Overrides that set the int constants `changes` and recompute the module constants derived from
    them (``multiplier_shape = (out_channels, 1, 1, 1)``), as the shrink and the extra shapes do."""
    consts = _scan(problem)
    known = {k: v for k, v in changes.items() if k in consts.values}
    return {**changes, **_overrides(consts, {**consts.values, **known})}


def _overrides(consts: _Constants, values: dict[str, int]) -> dict[str, Any]:
    """Module overrides for the changed constants, the derived ones recomputed."""
    scope = dict(consts.namespace)
    changed: dict[str, Any] = {k: v for k, v in values.items() if "[" not in k and v != consts.values[k]}
    for name, kind in consts.tuples.items():
        items = [values[f"{name}[{i}]"] for i in range(len(scope[name]))]
        if items != list(scope[name]):
            changed[name] = kind(items)
    scope.update(changed)
    for name, expression in consts.derived:
        try:
            value = eval(expression, scope)  # the problem's own module-level expression
        except Exception:  # noqa: BLE001 - an expression that no longer evaluates keeps its value
            value = None
        if value is not None and value != consts.namespace.get(name) and isinstance(value, (int, tuple, list)):
            changed[name] = scope[name] = value
    return changed


def _smaller(cost: tuple[int, float | None], before: tuple[int, float | None]) -> bool:
    return cost[0] < before[0] or (cost[1] is not None and before[1] is not None and cost[1] < before[1])


def _within(cost: tuple[int, float | None] | None) -> bool:
    return cost is not None and cost[0] <= MAX_INPUT_ELEMENTS and (cost[1] is None or cost[1] <= MAX_FLOPS)


def _verified(problem: Problem, overrides: dict[str, Any], cost: tuple[int, float | None]) -> bool:
    """Build and run on the CPU when that is cheap; trust the fake run otherwise."""
    from .inputs import _builds  # inputs imports this module

    if cost[0] > _CHECK_REAL_UP_TO * MAX_INPUT_ELEMENTS or (cost[1] or 0) > _CHECK_REAL_UP_TO * MAX_FLOPS:
        return cost[1] is not None
    return _builds(problem, overrides)


def _measure(problem: Problem, overrides: dict[str, Any]) -> tuple[int, float | None] | None:
    """(largest input's elements, forward FLOPs) on fake tensors; FLOPs None when the forward does
    not run on fakes (data-dependent); None when the problem does not build at these sizes."""
    from torch._subclasses.fake_tensor import FakeTensorMode

    try:
        module = problem.module(overrides)
        with torch.device("meta"):
            model = module.Model(*module.get_init_inputs())
            inputs = list(module.get_inputs())
    except Exception:  # noqa: BLE001 - these sizes do not build
        return None
    largest = max((x.numel() for x in inputs if isinstance(x, torch.Tensor)), default=0)
    mode = FakeTensorMode(allow_non_fake_inputs=True)

    def fake(x: Any) -> Any:
        if not isinstance(x, torch.Tensor):
            return x
        f = mode.from_tensor(x)
        f.fake_device = torch.device("cpu")
        return f

    state = {k: fake(v) for k, v in {**dict(model.named_parameters()), **dict(model.named_buffers())}.items()}
    counter = _FlopCount()
    try:
        with torch.no_grad(), mode, counter:
            torch.func.functional_call(model, state, tuple(fake(x) for x in inputs))
    except Exception:  # noqa: BLE001 - data-dependent forward: judge by the inputs alone
        return largest, None
    return largest, counter.flops


class _FlopCount(torch.utils._python_dispatch.TorchDispatchMode):
    """FLOPs of the ops run: torch's formulas for matmul/conv/attention, else output elements."""

    def __init__(self) -> None:
        super().__init__()
        self.flops = 0.0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        from torch.utils.flop_counter import flop_registry

        out = func(*args, **(kwargs or {}))
        formula = flop_registry.get(func.overloadpacket)
        if formula is not None:
            self.flops += formula(*args, **(kwargs or {}), out_val=out)
        elif not any(r.alias_info is not None for r in func._schema.returns):
            self.flops += sum(t.numel() for t in torch.utils._pytree.tree_leaves(out) if isinstance(t, torch.Tensor))
        return out
