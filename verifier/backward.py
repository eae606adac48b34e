"""Problems that declare a backward pass (`BACKWARD = True`): outputs and gradients, checked together.

A model wrapped in `WithGradients` runs its forward, then one backward pass with seeded output
gradients, and returns the outputs followed by the gradients of every floating input and of the
parameters the judge names (the reference's, by name). The verifier wraps the reference (float64),
eager PyTorch and the candidate alike, so every check on outputs -- tolerances, NaN / Inf, caching,
timed outputs -- covers the gradients too, and timing measures forward + backward as one call.
Kernels the backward launches run inside the same call, under the same launch and op records.

The output gradients come from `GRAD_SEED` and the outputs' shapes alone (float32 on the CPU, then
cast), so the candidate and the reference get the same ones whatever device and dtype they use.
"""
from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import torch

from .correctness import flatten

GRAD_SEED = 20261206


def declared(metadata: dict[str, Any]) -> bool:
    """Whether a problem's metadata asks for the backward pass to be verified."""
    return bool(metadata.get("backward"))


def marked(metadata: dict[str, Any], wanted: bool) -> dict[str, Any]:
    """`metadata`, asking for the backward pass too when `wanted` (a run's or a job's option)."""
    return {**metadata, "backward": True} if wanted and not declared(metadata) else metadata


def gradient_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    """The metadata that sets the gradients' tolerances: the problem's GRAD_ATOL / GRAD_RTOL in place of
    ATOL / RTOL where it gives them (a bf16 flash-attention backward rounds P and dS to bf16 before its
    products, as FlexAttention's does, so its gradients carry more error than its output)."""
    return {**metadata, **{key: metadata[f"grad_{key}"] for key in ("atol", "rtol") if f"grad_{key}" in metadata}}


def gradient_count(inputs: list[Any], names: list[str]) -> int:
    """How many of a `WithGradients` call's results are gradients: one per floating input and named parameter."""
    return sum(_is_float(x) for x in inputs) + len(names)


def parameter_names(model: Any) -> list[str]:
    """Names of the parameters whose gradients are checked: the reference's trainable ones, sorted."""
    if not isinstance(model, torch.nn.Module):
        return []
    return sorted(name for name, p in model.named_parameters() if p.requires_grad)


def output_gradients(outputs: list[Any]) -> list[Any]:
    """One seeded gradient per floating output tensor (None for the others)."""
    generator = torch.Generator().manual_seed(GRAD_SEED)
    grads: list[Any] = []
    for out in outputs:
        if isinstance(out, torch.Tensor) and out.dtype.is_floating_point:
            grads.append(torch.randn(tuple(out.shape), generator=generator).to(out.device, out.dtype))
        else:
            grads.append(None)
    return grads


class WithGradients(torch.nn.Module):
    """`model(*inputs)` then a backward pass; returns [*outputs, *input gradients, *parameter gradients].

    Inputs that are not floating tensors get no gradient entry; an input or parameter the outputs do
    not depend on gets zeros. `names`: the parameters to report, by name (default: the model's own).
    `harness`: a context in which the wrapper's own tensor work runs (in the sandbox, the launch
    tracker's `paused`, so that the output gradients it makes are not counted as the candidate's ops)."""

    def __init__(self, model: Any, names: list[str] | None = None,
                 harness: Callable[[], AbstractContextManager[Any]] = nullcontext) -> None:
        super().__init__()
        self.model = model
        self.names = parameter_names(model) if names is None else list(names)
        self.harness = harness

    def forward(self, *inputs: Any) -> list[Any]:
        own = dict(self.model.named_parameters()) if isinstance(self.model, torch.nn.Module) else {}
        missing = [n for n in self.names if n not in own]
        if missing:
            raise ValueError(f"the model has no parameter {missing[0]!r}: gradients are checked by the reference's "
                             f"parameter names")
        with self.harness():
            leaves = [x.detach().requires_grad_() if _is_float(x) else x for x in inputs]
        wanted = [x for x in leaves if _is_float(x)] + [own[n] for n in self.names]
        with torch.enable_grad():
            outputs = flatten(self.model(*leaves))
            with self.harness():
                pairs = [(o, g) for o, g in zip(outputs, output_gradients(outputs))
                         if g is not None and o.requires_grad]
            grads: list[Any] = [None] * len(wanted)
            if pairs and wanted:
                grads = list(torch.autograd.grad([o for o, _ in pairs], wanted, [g for _, g in pairs],
                                                 allow_unused=True))
        with self.harness():
            # gradients in a contiguous layout: the output-layout rule is about outputs, not autograd's choice
            filled = [torch.zeros_like(w) if g is None else g.detach().contiguous() for w, g in zip(wanted, grads)]
            return [o.detach() if isinstance(o, torch.Tensor) else o for o in outputs] + filled


def _is_float(x: Any) -> bool:
    return isinstance(x, torch.Tensor) and x.dtype.is_floating_point
