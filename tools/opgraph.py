"""Analyse a problem's forward without running it: aten ops, FLOPs, bytes, category, speed of light.

How: the model and its inputs are built on the ``meta`` device (no memory, any size), turned into
fake tensors labelled as CPU tensors (so a constant the forward creates itself, e.g.
``torch.zeros(n)``, lives on the same device as the inputs), and the forward is traced with
``make_fx(functionalize(fn), tracing_mode="fake")`` in training mode, the mode the verifier runs
the reference in (it never calls ``eval()``, so dropout with p > 0 draws random numbers).
Why make_fx rather than torch.export: make_fx runs the forward as plain Python and records
post-dispatch aten ops (aten.convolution, aten.addmm, aten._softmax) with each value's fake tensor
in ``node.meta["val"]``, in one call; export adds strict-mode guards and pytree rules that more
problem files fail, and its pre-dispatch ops need ``run_decompositions()`` to reach that level.
Functionalisation turns in-place ops into out-of-place ones plus a final ``copy_`` into the
mutated input, which is how writes into the forward's inputs are detected.

FLOPs: torch.utils.flop_counter's formulas for matmul, convolution and attention (2 per
multiply-add); else one per output element for pointwise ops, one per element of the largest input
for reductions, scans, norms, softmaxes and losses, window size per output element for pooling.
`bytes` is the minimum traffic: forward inputs, parameters and buffers, and outputs, once each.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import torch.fx
from kernelwright.verifier.problem import LoadError, Problem, looks_like_path
from torch.utils._pytree import tree_flatten, tree_map

from .opclass import categorize, leading_class, op_class, op_name
from .roofline import roofline

TENSOR_CORE = {"matmul", "conv", "conv_transpose", "attention"}
_RANDOM = {"rand", "randn", "rand_like", "randn_like", "randint", "randint_like", "bernoulli", "native_dropout",
           "normal", "uniform", "exponential", "multinomial", "randperm", "poisson", "rrelu_with_noise",
           "_fused_dropout", "cauchy", "geometric", "log_normal", "fractional_max_pool2d", "fractional_max_pool3d"}

_QUANTIZED = {torch.qint8, torch.quint8, torch.qint32, torch.quint4x2}


class NotCaptured(ValueError):
    """The forward cannot be traced; the message is the one-line reason."""


def category_label(analysis: dict[str, Any]) -> str | None:
    """An analysis's category for reports: a fused forward named by its leading op class too ("fused conv",
    "fused matmul"), since every KernelBench level-2 problem is fused."""
    category = analysis.get("category")
    return f"fused {leading_class(analysis.get('op_classes') or [])}" if category == "fused" else category


def analyze_problem(problem: Problem | str | Path, overrides: dict[str, Any] | None = None,
                    gpu: str | None = None) -> dict[str, Any]:
    """Plain-JSON analysis of the forward at the problem's sizes (module constants overridden).

    `gpu` names the GPU for `sol_s` ("H200", "NVIDIA H100 80GB HBM3"); by default the CUDA device."""
    prob = _as_problem(problem)
    result: dict[str, Any] = {"captured": False, "reason": None, "inputs": [], "params": [], "outputs": [],
                              "ops": [], "op_classes": [], "category": None, "flops": None, "bytes": None,
                              "dtype": None, "gpu": None, "sol_s": None, "sol": None}
    try:
        module, model, inputs = _build(prob, overrides)
        state = {**dict(model.named_parameters()), **dict(model.named_buffers())}
        result["inputs"] = [_describe(x) for x in inputs]
        buffers = dict(model.named_buffers())
        result["params"] = [{"name": k, "buffer": k in buffers, **_describe(v)} for k, v in state.items()]
        gm = _trace(model, state, inputs)
    except NotCaptured as exc:
        result["reason"] = str(exc)
        return result
    n_state = len(state)
    placeholders = [n for n in gm.graph.nodes if n.op == "placeholder"]
    for node in placeholders[:n_state]:
        node.meta["kw_param"] = True
    reason = _refusal(gm, placeholders, _forward_arg_names(model, inputs))
    _drop_write_backs(gm, placeholders)
    nodes = [n for n in gm.graph.nodes if n.op == "call_function"]
    classes = {n: c for n in nodes if (c := op_class(n)) is not None}
    ops = [_op_record(n, classes[n]) for n in classes]
    tensor_flops = sum(o["flops"] for o in ops if o["op_class"] in TENSOR_CORE)
    other_flops = sum(o["flops"] for o in ops if o["op_class"] not in TENSOR_CORE)
    outputs = [v for v in tree_flatten(next(n for n in gm.graph.nodes if n.op == "output").args[0])[0]
               if isinstance(v, torch.fx.Node) and isinstance(v.meta.get("val"), torch.Tensor)]
    result["outputs"] = [_describe(o.meta["val"]) for o in outputs]
    nbytes = sum(_nbytes(x) for x in [*inputs, *state.values()]) + sum(_nbytes(o.meta["val"]) for o in outputs)
    category, op_classes = categorize(gm.graph, classes, inputs)  # relabels hand-written norms, prologues
    for record, node in zip(ops, classes):
        record["op_class"] = classes[node]
    dtype = _compute_dtype(ops, inputs)
    result.update(captured=reason is None, reason=reason, ops=ops, op_classes=op_classes, category=category,
                  flops=tensor_flops + other_flops, bytes=nbytes, dtype=dtype,
                  **roofline(tensor_flops, other_flops, nbytes, dtype, gpu, tf32_ok=_tf32_ok(module)))
    return result


def _as_problem(problem: Problem | str | Path) -> Problem:
    """A Problem without load_problem's full-size reference run (which would allocate)."""
    if isinstance(problem, Problem):
        return problem
    if looks_like_path(problem):
        path = Path(problem)
        if not path.is_file():
            raise LoadError(f"{path}: problem file not found")
        return Problem(name=path.stem, source=path.read_text(), path=str(path))
    return Problem(name="problem", source=str(problem))


def _build(problem: Problem, overrides: dict[str, Any] | None) -> tuple[Any, torch.nn.Module, list[Any]]:
    try:
        module = problem.module(overrides)
    except LoadError as exc:
        raise NotCaptured(str(exc)) from None
    try:
        with torch.device("meta"):
            model = module.Model(*module.get_init_inputs())
            inputs = list(module.get_inputs())
    except Exception as exc:  # noqa: BLE001 - the problem does not build on the meta device
        raise NotCaptured(f"building the problem on the meta device failed: {_line(exc)}") from None
    return module, model, inputs


def _trace(model: torch.nn.Module, state: dict[str, torch.Tensor], inputs: list[Any]) -> torch.fx.GraphModule:
    from torch._subclasses.fake_tensor import FakeTensorMode
    from torch.fx.experimental.proxy_tensor import make_fx

    names = list(state)
    positions = [i for i, x in enumerate(inputs) if isinstance(x, torch.Tensor)]
    mode = FakeTensorMode(allow_non_fake_inputs=True)

    def fake(t: torch.Tensor) -> torch.Tensor:
        f = mode.from_tensor(t)
        f.fake_device = torch.device("cpu")
        return f

    def forward(*flat: torch.Tensor) -> Any:
        args = list(inputs)
        for pos, value in zip(positions, flat[len(names):]):
            args[pos] = value
        return torch.func.functional_call(model, dict(zip(names, flat[:len(names)])), tuple(args))

    flat = [fake(t) for t in [*state.values(), *(inputs[i] for i in positions)]]
    try:
        with torch.no_grad():
            return make_fx(torch.func.functionalize(forward, remove="mutations"), tracing_mode="fake",
                           _allow_non_fake_inputs=True)(*flat)
    except Exception as exc:  # noqa: BLE001 - every tracing failure becomes a one-line reason
        kind = type(exc).__name__
        if "DataDependentOutput" in kind or "GuardOnDataDependent" in kind:
            raise NotCaptured(
                f"data-dependent control flow (the forward reads a tensor's value: {_line(exc)})") from None
        if "DynamicOutputShape" in kind:
            raise NotCaptured(f"data-dependent output shape ({_line(exc)})") from None
        raise NotCaptured(f"tracing the forward failed: {_line(exc)}") from None


def _refusal(gm: torch.fx.GraphModule, placeholders: list[torch.fx.Node], input_names: list[str]) -> str | None:
    """Why a traced forward cannot be reproduced by a kernel, or None."""
    inputs = dict(zip(placeholders[len(placeholders) - len(input_names):], input_names))
    for node in gm.graph.nodes:
        if node.op != "call_function":
            continue
        name = op_name(node)
        if name in _RANDOM or (torch.Tag.nondeterministic_seeded in getattr(node.target, "tags", ())
                               and "attention" not in name) or _dropout_p(node) > 0:
            return (f"random numbers drawn in forward (aten.{name}; dropout with p > 0 counts, since the verifier "
                    "runs the model in training mode); not reproducible by a kernel")
        if name == "copy_" and node.args[0] in inputs:
            return f"the forward writes into its input `{inputs[node.args[0]]}` in place"
        for value in tree_flatten(node.meta.get("val"))[0]:
            if isinstance(value, torch.Tensor) and (value.dtype.is_complex or value.dtype in _QUANTIZED):
                return f"unsupported dtype {str(value.dtype)[6:]} (aten.{name})"
    return None


def _forward_arg_names(model: torch.nn.Module, inputs: list[Any]) -> list[str]:
    """Names of the forward's tensor arguments, in order."""
    import inspect

    try:
        names = list(inspect.signature(model.forward).parameters)
    except (TypeError, ValueError):
        names = []
    names += [f"input {i}" for i in range(len(names), len(inputs))]
    return [names[i] for i, x in enumerate(inputs) if isinstance(x, torch.Tensor)]


def _drop_write_backs(gm: torch.fx.GraphModule, placeholders: list[torch.fx.Node]) -> None:
    """Remove functionalised write-backs (batch norm running stats, an input's in-place update) and
    the work only they used: none of it reaches the output."""
    for node in list(gm.graph.nodes):
        if node.op == "call_function" and op_name(node) == "copy_" and node.args[0] in placeholders:
            gm.graph.erase_node(node)
    gm.graph.eliminate_dead_code()


def _dropout_p(node: torch.fx.Node) -> float:
    schema = getattr(node.target, "_schema", None)
    if schema is None or "attention" not in op_name(node):
        return 0.0
    for i, arg in enumerate(schema.arguments):
        if arg.name == "dropout_p":
            value = node.kwargs.get("dropout_p", node.args[i] if i < len(node.args) else 0.0)
            return float(value) if isinstance(value, (int, float)) else 0.0
    return 0.0


def _op_record(node: torch.fx.Node, cls: str) -> dict[str, Any]:
    args = [a.meta["val"] for a in node.all_input_nodes if isinstance(a.meta.get("val"), torch.Tensor)]
    outs = [v for v in tree_flatten(node.meta.get("val"))[0] if isinstance(v, torch.Tensor)]
    return {"op": f"aten.{op_name(node)}", "op_class": cls, "shapes": [list(a.shape) for a in args],
            "out_shape": list(outs[0].shape) if outs else None,
            "dtype": str(outs[0].dtype).replace("torch.", "") if outs else None,
            "flops": _flops(node, cls, args, outs), "bytes": sum(_nbytes(t) for t in [*args, *outs])}


def _flops(node: torch.fx.Node, cls: str, args: list[torch.Tensor], outs: list[torch.Tensor]) -> int:
    from torch.utils.flop_counter import flop_registry

    formula = flop_registry.get(getattr(node.target, "overloadpacket", None))
    if formula is not None:
        vals = tree_map(lambda a: a.meta.get("val") if isinstance(a, torch.fx.Node) else a, (node.args, node.kwargs))
        return int(formula(*vals[0], out_val=node.meta.get("val"), **vals[1]))
    out = outs[0].numel() if outs else 0
    largest = max((a.numel() for a in args), default=0)
    if cls == "attention" and len(args) >= 3:  # q @ k^T and p @ v: 2 * B*H*Sq*Sk*(D + Dv)
        q, k, v = args[:3]
        return 2 * q.numel() // q.shape[-1] * k.shape[-2] * (q.shape[-1] + v.shape[-1])
    if cls == "matmul":
        return max(2 * largest, out)
    if cls == "pool":
        window = node.args[1] if len(node.args) > 1 and "adaptive" not in op_name(node) else None
        return out * _prod(window) if isinstance(window, (list, tuple)) else largest
    if cls == "elementwise":
        return out
    return largest if cls != "data" else 0


def _compute_dtype(ops: list[dict[str, Any]], inputs: list[Any]) -> str:
    """The dtype that sets the compute peak: a tensor-core op's, else the first floating input's."""
    for op in ops:
        if op["op_class"] in TENSOR_CORE and op["dtype"]:
            return op["dtype"]
    floats = [x for x in inputs if isinstance(x, torch.Tensor) and x.dtype.is_floating_point]
    return str(floats[0].dtype).replace("torch.", "") if floats else "float32"


def _tf32_ok(module: Any) -> bool:
    """Whether the problem's float32 RTOL (>= 1e-3) admits tf32 matmuls."""
    rtol = getattr(module, "RTOL", None)
    rtol = rtol.get("float32") if isinstance(rtol, dict) else rtol
    return isinstance(rtol, (int, float)) and rtol >= 1e-3


def _describe(x: Any) -> dict[str, Any]:
    if isinstance(x, torch.Tensor):
        return {"shape": list(x.shape), "dtype": str(x.dtype).replace("torch.", "")}
    return {"shape": None, "dtype": type(x).__name__, "value": x if isinstance(x, (int, float, bool, str)) else repr(x)}


def _nbytes(x: Any) -> int:
    return x.numel() * x.element_size() if isinstance(x, torch.Tensor) else 0


def _prod(values: Any) -> int:
    out = 1
    for v in values:
        out *= int(v)
    return out


def _line(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".strip().splitlines()[0]
    return text[:300]
