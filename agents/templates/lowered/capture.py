"""Problem source -> a shape-symbolic aten graph of its forward (the input of the `lowered` family).

How: the problem file is executed, its Model and inputs are built on the **meta** device (no memory,
no compute, any size), and the forward is traced with
``make_fx(functionalize(fn), tracing_mode="symbolic", decomposition_table=...)`` where ``fn`` takes
the parameters and buffers as explicit inputs (``torch.func.functional_call``). So:

- every size in the graph is a SymInt expression of the input / parameter sizes (duck shaping is
  off, so two sizes that are merely equal stay two symbols); a size that tracing had to fix to a
  number (a ``view(-1, 64)`` with a module constant, a guard) makes the capture fail, because the
  program would then be wrong at the verifier's perturbed shapes;
- functionalisation turns in-place ops into out-of-place ones; writes back into parameters or
  buffers (batch-norm running statistics) do not change the output and are dropped, writes into
  the forward's inputs make the capture fail;
- the decomposition table is Inductor's (``select_decomp_table()``): it reduces softmax,
  log_softmax, layer / group / batch / instance norm, the activations, losses, logsumexp, ... to a
  small set of pointwise ops and reductions (amax, sum, var_mean, ...). The "big" ops that the
  dense engineer's ``dense_*.py`` wrappers implement (`KEEP`) are removed from it so that each
  stays one node: convolution, mm / addmm / bmm / baddbmm, pooling with indices, avg pooling,
  cumsum / cumprod. Why Inductor's table rather than ``core_aten_decompositions()``: it is the
  table whose output Inductor's own pointwise / reduction codegen consumes, i.e. exactly the op set
  that maps onto fused Triton kernels (core aten keeps e.g. ``_softmax`` and ``native_layer_norm``
  whole).
"""
from __future__ import annotations

import contextlib
import hashlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.fx

# aten overload packets kept whole (not decomposed): lowered by dense_*.py wrappers or scan.py
KEEP = {
    "convolution", "_convolution", "mm", "addmm", "bmm", "baddbmm",
    "max_pool1d_with_indices", "max_pool2d_with_indices", "max_pool3d_with_indices",
    "avg_pool1d", "avg_pool2d", "avg_pool3d", "cumsum", "cumprod",
}
RANDOM = {"rand", "randn", "rand_like", "randn_like", "randint", "randint_like", "bernoulli", "bernoulli_",
          "native_dropout", "normal", "normal_", "uniform", "uniform_", "exponential", "multinomial",
          "randperm", "poisson", "rrelu_with_noise", "_fused_dropout", "cauchy", "geometric", "log_normal"}
DTYPES = {torch.float32, torch.float16, torch.bfloat16, torch.int64, torch.int32, torch.int16, torch.int8,
          torch.uint8, torch.bool}


class CaptureError(ValueError):
    """The forward cannot be captured as a shape-generic aten graph; the message is one line."""


@dataclass
class Capture:
    """A captured forward: the graph and how its placeholders map onto the model and the inputs."""

    graph: torch.fx.GraphModule
    state_names: list[str]          # parameter / buffer names, the first placeholders in order
    n_params: int                   # the first n_params state names are parameters, the rest buffers
    input_names: list[str]          # forward argument names (the remaining placeholders)
    constants: dict[int, Any] = field(default_factory=dict)  # non-tensor forward inputs, baked in
    single_output: bool = True      # forward returned a tensor (not a tuple)
    init_args: list[Any] = field(default_factory=list)        # constructor arguments used
    shapes: list[tuple[int, ...]] = field(default_factory=list)  # concrete placeholder shapes
    input_positions: list[int] = field(default_factory=list)  # forward position of each tensor input

    @property
    def placeholders(self) -> list[torch.fx.Node]:
        return [n for n in self.graph.graph.nodes if n.op == "placeholder"]


def source_key(source: str) -> str:
    """Cache key of a problem source."""
    return hashlib.sha256(source.encode()).hexdigest()[:20]


def decomposition_table() -> dict[Any, Any]:
    """Inductor's decompositions minus the ops kept whole (`KEEP`)."""
    from torch._decomp import decomposition_table as aten_table
    from torch._inductor.decomposition import select_decomp_table

    table = {op: fn for op, fn in select_decomp_table().items()
             if getattr(getattr(op, "overloadpacket", None), "__name__", "") not in KEEP}
    # scaled_dot_product_attention reaches the tracer as the CPU flash op (the fake tensors are
    # labelled CPU); its aten decomposition is the math form (bmm, softmax)
    table.update({op: fn for op, fn in aten_table.items() if "flash_attention_for_cpu" in str(op)})
    return table


def problem_module(source: str, overrides: dict[str, Any] | None = None) -> Any:
    """The problem executed as a module, with module-level constants overridden."""
    from kernelwright.verifier.problem import LoadError, exec_source

    try:
        module = exec_source(source, "kw_lowered_probe", "<problem>")
    except LoadError as exc:
        raise CaptureError(str(exc)) from None
    for key, value in (overrides or {}).items():
        setattr(module, key, value)
    return module


def _build(source: str, overrides: dict[str, Any] | None) -> tuple[torch.nn.Module, list[Any], list[Any]]:
    module = problem_module(source, overrides)
    try:
        with torch.device("meta"):
            init_args = list(module.get_init_inputs())
            model = module.Model(*init_args)
            inputs = list(module.get_inputs())
    except Exception as exc:  # noqa: BLE001 - the problem does not build on the meta device
        raise CaptureError(f"building the model on the meta device failed: {type(exc).__name__}: {exc}") from None
    inputs = [x.to("meta") if isinstance(x, torch.Tensor) else x for x in inputs]
    return model, inputs, init_args


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence fake-tensor's error log while tracing: a failed trace is reported by CaptureError."""
    logger = logging.getLogger("torch._subclasses.fake_tensor")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def _fake_cpu(tensors: list[torch.Tensor]) -> list[torch.Tensor]:
    """Symbolic-size fake tensors for meta tensors, labelled as CPU tensors.

    The label matters for constants the forward creates itself (``torch.tensor(v, device=x.device)``):
    on a CPU device they are real tensors whose values the emitter can read; on meta they would
    have none. Duck shaping is off: equal sizes get separate symbols unless the forward ties them.
    """
    from torch._subclasses.fake_tensor import FakeTensorMode
    from torch.fx.experimental.symbolic_shapes import ShapeEnv

    mode = FakeTensorMode(shape_env=ShapeEnv(duck_shape=False), allow_non_fake_inputs=True)
    out = []
    for t in tensors:
        f = mode.from_tensor(t)
        f.fake_device = torch.device("cpu")
        out.append(f)
    return out


def _forward_arg_names(model: torch.nn.Module, count: int) -> list[str]:
    import inspect

    names = [p for p in inspect.signature(model.forward).parameters]
    return (names + [f"arg{i}" for i in range(len(names), count)])[:count]


def capture(source: str, overrides: dict[str, Any] | None = None) -> Capture:
    """Trace the problem's forward (module constants overridden) into a symbolic aten graph.

    CaptureError says in one line why it cannot be done."""
    from torch.fx.experimental.proxy_tensor import make_fx

    model, inputs, init_args = _build(source, overrides)
    if model.training and any(isinstance(m, torch.nn.modules.dropout._DropoutNd) and m.p > 0 for m in model.modules()):
        raise CaptureError("random numbers in forward (dropout with p > 0 in training mode)")
    state = {**dict(model.named_parameters()), **dict(model.named_buffers())}
    names = list(state)
    tensors = [*state.values()] + [x for x in inputs if isinstance(x, torch.Tensor)]
    for t in tensors:
        if t.dtype not in DTYPES:
            raise CaptureError(f"unsupported dtype {t.dtype} (float32/16, bfloat16, integers and bool only)")
    constants = {i: x for i, x in enumerate(inputs) if not isinstance(x, torch.Tensor)}
    positions = [i for i, x in enumerate(inputs) if isinstance(x, torch.Tensor)]

    def forward(*flat: torch.Tensor) -> Any:
        args = list(inputs)
        for pos, value in zip(positions, flat[len(names):]):
            args[pos] = value
        return torch.func.functional_call(model, dict(zip(names, flat[:len(names)])), tuple(args))

    try:
        fake = _fake_cpu(tensors)
        with torch.no_grad(), _quiet():
            gm = make_fx(torch.func.functionalize(forward, remove="mutations"), tracing_mode="symbolic",
                         decomposition_table=decomposition_table(), _allow_non_fake_inputs=True)(*fake)
    except Exception as exc:  # noqa: BLE001 - every tracing failure becomes a one-line reason
        raise CaptureError(_reason(exc)) from None
    arg_names = _forward_arg_names(model, len(inputs))
    cap = Capture(gm, names, len(dict(model.named_parameters())), [arg_names[i] for i in positions], constants,
                  init_args=init_args,
                  shapes=[tuple(t.shape) for t in tensors], input_positions=positions)
    _check(cap)
    return cap


def _reason(exc: Exception) -> str:
    text = f"{type(exc).__name__}: {exc}".strip().splitlines()[0][:300]
    if "DataDependent" in type(exc).__name__ or "data-dependent" in text or "data dependent" in text:
        return f"data-dependent control flow or output shape ({text})"
    if "meta" in text.lower() and ("item" in text or "Tensor.item" in text):
        return f"data-dependent control flow (reads a tensor value: {text})"
    return f"tracing the forward failed: {text}"


def _forward_copy(node: torch.fx.Node) -> None:
    """`copy_(dst, src)` into an intermediate (decompositions such as cosine_similarity's write into a
    clone): later readers of the copy get `src` itself, when nothing reads `dst` afterwards and
    shape and dtype agree; else CaptureError."""
    dst, src = node.args[0], node.args[1]
    order = {n: i for i, n in enumerate(node.graph.nodes)}
    late = [u for u in dst.users if u is not node and order[u] > order[node]]
    a, b = dst.meta.get("val"), getattr(src, "meta", {}).get("val")
    if late or not isinstance(b, torch.Tensor) or a.shape != b.shape or a.dtype != b.dtype:
        raise CaptureError("an in-place write inside the forward that cannot be made out-of-place")
    node.replace_all_uses_with(src)
    node.graph.erase_node(node)


def _check(cap: Capture) -> None:
    """Drop state writes; reject input writes, randomness and unsupported dtypes."""
    graph = cap.graph.graph
    placeholders = cap.placeholders
    n_state = len(cap.state_names)
    for node in list(graph.nodes):
        if node.op != "call_function":
            continue
        packet = getattr(getattr(node.target, "overloadpacket", None), "__name__", "")
        if packet in RANDOM:
            raise CaptureError(f"random numbers in forward ({packet}); not reproducible by a kernel")
        if packet == "copy_" and node.args[0] in placeholders:
            if placeholders.index(node.args[0]) >= n_state:
                raise CaptureError("the forward writes into its inputs in place")
            graph.erase_node(node)
        elif packet == "copy_":
            _forward_copy(node)
    graph.eliminate_dead_code()
    for node in graph.nodes:
        val = node.meta.get("val")
        for t in (val if isinstance(val, (tuple, list)) else [val]):
            if isinstance(t, torch.Tensor) and t.dtype not in DTYPES:
                raise CaptureError(f"unsupported dtype {t.dtype} inside the forward ({node.target})")
    output = next(n for n in graph.nodes if n.op == "output")
    result = output.args[0]
    cap.single_output = not isinstance(result, (tuple, list))
    cap.graph.recompile()
