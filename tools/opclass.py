"""Op classes of aten nodes and the category of a whole forward (see `categorize`).

An aten op's class is one of elementwise, reduction, norm, softmax, scan, matmul, conv,
conv_transpose, pool, loss, attention, or "data" (copies, concatenation, indexing, factories:
traffic without arithmetic). Pure views (and `getitem`) have no class: they are skipped.
"""
from __future__ import annotations

import operator
from typing import Any

import torch
import torch.fx

_NAMED = {
    "matmul": {"mm", "addmm", "bmm", "baddbmm", "mv", "addmv", "dot", "vdot", "addbmm", "addr", "_scaled_mm",
               "_int_mm", "matmul", "linear"},
    "conv": {"convolution", "_convolution", "conv1d", "conv2d", "conv3d", "cudnn_convolution",
             "mkldnn_convolution", "_slow_conv2d_forward", "slow_conv3d_forward", "slow_conv_dilated2d",
             "slow_conv_dilated3d", "convolution_overrideable"},
    "conv_transpose": {"conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "slow_conv_transpose2d",
                       "slow_conv_transpose3d", "cudnn_convolution_transpose"},
    "pool": {"max_pool1d", "max_pool2d", "max_pool3d", "max_pool1d_with_indices", "max_pool2d_with_indices",
             "max_pool3d_with_indices", "avg_pool1d", "avg_pool2d", "avg_pool3d", "adaptive_avg_pool1d",
             "adaptive_avg_pool2d", "adaptive_avg_pool3d", "_adaptive_avg_pool2d", "_adaptive_avg_pool3d",
             "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d", "max_unpool2d", "max_unpool3d",
             "fractional_max_pool2d", "fractional_max_pool3d"},
    "norm": {"native_layer_norm", "native_batch_norm", "_native_batch_norm_legit",
             "_native_batch_norm_legit_functional", "_native_batch_norm_legit_no_training",
             "_batch_norm_with_update", "_batch_norm_with_update_functional", "_batch_norm_no_update",
             "native_group_norm", "_fused_rms_norm", "rms_norm", "layer_norm", "group_norm", "batch_norm",
             "instance_norm"},
    "softmax": {"_softmax", "_log_softmax", "softmax", "log_softmax", "_safe_softmax"},
    "scan": {"cumsum", "cumprod", "cummax", "cummin", "logcumsumexp", "_logcumsumexp"},
    "loss": {"mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "nll_loss", "nll_loss_forward",
             "nll_loss2d_forward", "nll_loss_nd", "binary_cross_entropy", "binary_cross_entropy_with_logits",
             "soft_margin_loss", "multi_margin_loss", "multilabel_margin_loss_forward", "kl_div", "ctc_loss",
             "_ctc_loss", "cross_entropy_loss"},
    "attention": {"_scaled_dot_product_flash_attention_for_cpu", "_scaled_dot_product_flash_attention",
                  "_scaled_dot_product_efficient_attention", "_scaled_dot_product_cudnn_attention",
                  "_scaled_dot_product_attention_math", "scaled_dot_product_attention",
                  "_scaled_dot_product_fused_attention_overrideable", "_flash_attention_forward",
                  "_efficient_attention_forward"},
}
_BY_NAME = {name: cls for cls, names in _NAMED.items() for name in names}
_REDUCTION = {"sum", "mean", "amax", "amin", "argmax", "argmin", "prod", "var", "std", "var_mean", "std_mean",
              "linalg_vector_norm", "norm", "logsumexp", "any", "all", "aminmax", "nansum", "median", "nanmedian"}
_ELEMENTWISE = {"where", "triu", "tril", "_to_copy", "fill", "masked_fill", "native_dropout", "bernoulli", "glu",
                "prelu", "_prelu_kernel", "rrelu_with_noise", "hardswish", "log_sigmoid_forward", "lerp",
                "rand_like", "randn_like", "rand", "randn", "normal", "uniform"}
_SKIPPED = {"getitem", "_unsafe_view", "lift_fresh_copy", "lift_fresh", "detach", "empty", "empty_like",
            "empty_strided", "new_empty", "new_empty_strided", "scalar_tensor", "sym_size", "sym_numel",
            "sym_stride", "sym_storage_offset", "_assert_tensor_metadata"}
# op classes from the one that usually dominates a fused forward's time to the one that least does
_HEAVY = ("attention", "loss", "conv_transpose", "conv", "matmul", "pool", "norm", "softmax", "scan", "reduction")


def leading_class(op_classes: list[str]) -> str:
    """The op class of a fused forward that usually costs most (conv before its epilogue, ...)."""
    return next((cls for cls in _HEAVY if cls in op_classes), "elementwise")


def op_name(node: torch.fx.Node) -> str:
    """The aten overload packet's name of a call ("convolution"), or the callable's name."""
    if node.target is operator.getitem:
        return "getitem"
    packet = getattr(node.target, "overloadpacket", None)
    return str(getattr(packet, "__name__", None) or getattr(node.target, "__name__", node.target))


def is_view(node: torch.fx.Node) -> bool:
    """A pure view or bookkeeping call: no arithmetic and no traffic of its own."""
    if op_name(node) in _SKIPPED:
        return True
    schema = getattr(node.target, "_schema", None)
    return schema is not None and any(r.alias_info is not None and not r.alias_info.is_write
                                      for r in schema.returns)


def op_class(node: torch.fx.Node) -> str | None:
    """The class of one call node; None for views."""
    if is_view(node):
        return None
    name = op_name(node)
    cls = _BY_NAME.get(name)
    if cls == "conv" and name in ("convolution", "_convolution") and len(node.args) > 6 and node.args[6]:
        return "conv_transpose"  # aten.convolution(input, weight, bias, stride, padding, dilation, transposed, ...)
    if cls:
        return cls
    tags = getattr(node.target, "tags", ())
    if torch.Tag.reduction in tags or name in _REDUCTION:
        return "reduction"
    if torch.Tag.pointwise in tags or name in _ELEMENTWISE:
        return "elementwise"
    return "data"


def _tensor_args(node: torch.fx.Node) -> list[torch.fx.Node]:
    return [a for a in node.all_input_nodes if isinstance(a.meta.get("val"), torch.Tensor)]


def _source(node: torch.fx.Node) -> torch.fx.Node:
    """Follow views back to the node that computed the data."""
    while node.op == "call_function" and is_view(node) and node.args and isinstance(node.args[0], torch.fx.Node):
        node = node.args[0]
    return node


def _numel(node: torch.fx.Node) -> int:
    val = node.meta.get("val")
    return val.numel() if isinstance(val, torch.Tensor) else 0


def _walk(start: torch.fx.Node, classes: dict[torch.fx.Node, str], through: set[str],
          forward: bool = False) -> tuple[set[torch.fx.Node], set[torch.fx.Node]]:
    """Nodes reached from `start` (backwards, or forwards) through views and nodes of the classes
    `through`: (the nodes passed, the first other nodes met)."""
    inner: set[torch.fx.Node] = set()
    edge: set[torch.fx.Node] = set()
    todo = [start]
    while todo:
        node = todo.pop()
        if node in inner or node in edge:
            continue
        if node.op == "call_function" and (is_view(node) or classes.get(node) in through):
            inner.add(node)
            todo += list(node.users) if forward else list(node.all_input_nodes)
        else:
            edge.add(node)
    return inner, edge


def absorb_normalizations(graph: torch.fx.Graph, classes: dict[torch.fx.Node, str]) -> None:
    """Relabel hand-written norms and softmaxes in place (`x / sqrt(mean(x*x))`, `exp(x - max) / sum`).

    A pointwise node that combines a tensor with a reduction of that same tensor (the reduction
    reads, through pointwise ops, a value the other operand also derives from, and its result has
    fewer elements) makes a group with that reduction and the pointwise ops between them; an affine
    tail (pointwise ops with parameters only) joins it. Overlapping groups merge; a group with exp
    and sum is "softmax", else "norm"."""
    params = {n for n in graph.nodes if n.op == "placeholder" and n.meta.get("kw_param")}
    groups: list[set[torch.fx.Node]] = []
    for node in graph.nodes:
        if classes.get(node) == "elementwise":
            group = _normalization_group(node, classes)
            if group:
                groups.append(group | _affine_tail(node, classes, params))
    merged: list[set[torch.fx.Node]] = []
    for group in groups:
        for other in [m for m in merged if m & group]:
            merged.remove(other)
            group |= other
        merged.append(group)
    for group in merged:
        names = {op_name(n) for n in group}
        label = "softmax" if "exp" in names and {"sum", "logsumexp"} & names else "norm"
        for n in group:
            if n in classes:
                classes[n] = label


def _normalization_group(node: torch.fx.Node, classes: dict[torch.fx.Node, str]) -> set[torch.fx.Node]:
    args = [_source(a) for a in _tensor_args(node)]
    for small in args:
        inner_b, edge_b = _walk(small, classes, {"elementwise"})
        for red in [e for e in edge_b if classes.get(e) == "reduction" and e.args]:
            if not isinstance(red.args[0], torch.fx.Node):
                continue
            inner_r, edge_r = _walk(_source(red.args[0]), classes, {"elementwise"})
            for big in args:
                if big is small or _numel(big) <= _numel(red):
                    continue
                inner_a, edge_a = _walk(big, classes, {"elementwise"})
                if (inner_a | edge_a) & (inner_r | edge_r):
                    return {node, red} | inner_b | {n for n in inner_r if classes.get(n) == "elementwise"}
    return set()


def _affine_tail(node: torch.fx.Node, classes: dict[torch.fx.Node, str], params: set) -> set[torch.fx.Node]:
    tail: set[torch.fx.Node] = set()
    todo = list(node.users)
    while todo:
        user = todo.pop()
        if classes.get(user) != "elementwise" or user in tail:
            continue
        others = [_source(a) for a in _tensor_args(user)]
        if all(a in params or a in tail or a is node or _numel(a) <= 1 for a in others):
            tail.add(user)
            todo += list(user.users)
    return tail


def _absorb_prologues(classes: dict[torch.fx.Node, str]) -> None:
    """Pointwise ops whose every user is a reduction or scan (x*mask before cumsum, |x| before sum)
    belong to it, and so do pointwise ops that only combine reduction results (max - min + mean)."""
    for node in reversed(list(classes)):
        if classes[node] != "elementwise":
            continue
        kinds = {classes.get(u) for u in _consumers(node)}
        if len(kinds) == 1 and kinds <= {"reduction", "scan"}:
            classes[node] = kinds.pop()  # type: ignore[assignment]
    for node in list(classes):
        args = [_source(a) for a in _tensor_args(node)]
        if classes[node] == "elementwise" and args and all(classes.get(a) == "reduction" for a in args):
            classes[node] = "reduction"


def _consumers(node: torch.fx.Node) -> list[torch.fx.Node]:
    """The users of a node, looking through views."""
    found: list[torch.fx.Node] = []
    for user in node.users:
        found += _consumers(user) if user.op == "call_function" and is_view(user) else [user]
    return found


def _is_attention(classes: dict[torch.fx.Node, str]) -> bool:
    """A softmax fed by a matmul and feeding a matmul, through pointwise ops and views."""
    for node, cls in classes.items():
        if cls != "softmax":
            continue
        _, before = _walk(node, classes, {"elementwise", "softmax"})
        _, after = _walk(node, classes, {"elementwise", "softmax"}, forward=True)
        if any(classes.get(n) == "matmul" for n in before) and any(classes.get(n) == "matmul" for n in after):
            return True
    return False


def _is_scalar_loss(graph: torch.fx.Graph, classes: dict[torch.fx.Node, str], inputs: list[Any]) -> bool:
    """One scalar output made by a reduction from >= 2 tensor inputs (predictions and targets)."""
    out = next(n for n in graph.nodes if n.op == "output").args[0]
    if isinstance(out, (tuple, list)):
        if len(out) != 1:
            return False
        out = out[0]
    if not isinstance(out, torch.fx.Node) or _numel(out) != 1:
        return False
    reduced = classes.get(_source(out)) == "reduction" or any(
        classes.get(e) == "reduction" for e in _walk(_source(out), classes, {"elementwise"})[1])
    return reduced and sum(isinstance(t, torch.Tensor) for t in inputs) >= 2


def categorize(graph: torch.fx.Graph, classes: dict[torch.fx.Node, str], inputs: list[Any]) -> tuple[str, list[str]]:
    """The forward's category and its sorted op classes (after the relabelling below).

    Rule: hand-written norms/softmaxes are relabelled, pointwise prologues of a reduction/scan are
    absorbed; then "attention" if an attention op or a softmax between two matmuls; else "loss" if
    a loss op or a scalar reduced from >= 2 tensor inputs; else, ignoring "data" ops, the only
    class left, "elementwise" when none, and "fused" when several (e.g. conv + bias + relu)."""
    absorb_normalizations(graph, classes)
    _absorb_prologues(classes)
    present = set(classes.values())
    op_classes = sorted(present)
    if "attention" in present or _is_attention(classes):
        return "attention", op_classes
    if "loss" in present or _is_scalar_loss(graph, classes, inputs):
        return "loss", op_classes
    present.discard("data")
    if not present:
        return "elementwise", op_classes
    if len(present) == 1:
        return present.pop(), op_classes
    return "fused", op_classes
