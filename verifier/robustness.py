"""Robustness trials: scaled and shifted inputs, judged relative to eager PyTorch's own error.

Every problem with floating-point inputs gets two extra trials at the ordinary (CPU: small) shapes:

    kind             inputs                      catches                          metadata
    large_magnitude  x * LARGE_MAGNITUDE (100)   softmax without max-subtraction  LARGE_MAGNITUDE(_ATOL)
    shifted          x + SHIFT_MAGNITUDE (1000)  one-pass variance E[x²]-E[x]²    SHIFT_MAGNITUDE(_ATOL)

A problem switches a trial off with `LARGE_MAGNITUDE = None` / `SHIFT_MAGNITUDE = None`, or tunes
its size; `..._ATOL` sets the trial's absolute tolerance (a float or a dict by dtype name).
Each trial is judged against the float64 reference with the ordinary tolerance widened to
ERROR_FACTOR (32) times the error eager PyTorch makes in the problem's own dtype on the same inputs:
a candidate must be about as robust as eager, not more. Where eager itself gives NaN / Inf, or
misses even EAGER_SLACK times the ordinary tolerance, these inputs are beyond what the dtype can
do: the trial is skipped, and the verdict's trial record says so (`skipped`, with the reason).
(Eager float32 layer norm on the CPU misses the ordinary 1e-5 relative norm by a little on x + 1000,
which is why the bar for skipping is looser than the ordinary tolerance.)

Gradients (problems that declare a backward pass) are judged at these trials for shape, dtype and
finiteness only (`UNJUDGED` tolerances): flash-attention backward kernels, FlexAttention's among them,
round dS to bf16 before the dQ / dK products, and a common offset of the inputs then leaves an error
far above eager's, which computes the reference in float32. Ordinary trials judge gradients in full.

Ordinary trials use the same idea only as a floor (`eager_floor`): where a candidate misses the
ordinary tolerance only numerically, and eager PyTorch in the problem's dtype misses it too on the same
inputs (an output that cancels to ~0, like the mean of a group-normalised tensor), the bar becomes
ERROR_FACTOR times eager's error there. Where eager meets the ordinary tolerance, it stands.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch

from .correctness import Tolerance, compare, dtype_name, tolerance_for

if TYPE_CHECKING:  # evidence imports this module's users: the name only, for the annotation
    from .evidence import Reference

DEFAULT_SCALE = 100.0
DEFAULT_SHIFT = 1000.0
# A candidate may make this many times eager's error (never less than the ordinary tolerance). Honest
# kernels that sum in another order differ from eager by up to ~8x where prefix sums cancel (a tree
# scan for KernelBench's masked cumsum at x * 100); the failures these trials target are 1000x off
# (one-pass layer norm at x + 1000) or NaN (softmax without max-subtraction).
ERROR_FACTOR = 32.0
EAGER_SLACK = 100.0  # eager beyond this many times the ordinary tolerance: the trial is skipped
UNJUDGED = Tolerance(math.inf, math.inf, math.inf)  # values not judged (shape, dtype, NaN / Inf still are)
KINDS = {"large_magnitude": ("large_magnitude", DEFAULT_SCALE), "shifted": ("shift_magnitude", DEFAULT_SHIFT)}


def settings(metadata: dict[str, Any], *, scaled: bool, shifted: bool) -> list[tuple[str, float]]:
    """(kind, size) of the robustness trials to run: declared sizes, else the defaults; None / 0 is off."""
    wanted = {"large_magnitude": scaled, "shifted": shifted}
    found = []
    for kind, (key, default) in KINDS.items():
        size = metadata.get(key, default)  # declared None switches the trial off
        if wanted[kind] and size:
            found.append((kind, float(size)))
    return found


def trial_metadata(kind: str, metadata: dict[str, Any]) -> dict[str, Any]:
    """The problem's metadata with the trial's own ATOL, when it declares one."""
    atol = metadata.get(f"{KINDS[kind][0]}_atol")
    return {**metadata, "atol": atol} if atol is not None else metadata


@dataclass
class Judgement:
    """Per-output tolerances for the candidate, or why the trial is skipped."""

    tolerances: list[Tolerance | None]
    skipped: str = ""


def eager_floor(eager: list[Any], reference: Reference, metadata: dict[str, Any]) -> list[Tolerance | None] | None:
    """Per-output tolerances widened to ERROR_FACTOR x eager's error where eager itself misses the ordinary
    tolerance; None when eager meets it on every output (the ordinary tolerance stands) or gives NaN/Inf.
    Each output's ordinary tolerance is the reference's (`Reference.tolerance`: a gradient's GRAD_ATOL / GRAD_RTOL)."""
    tolerances: list[Tolerance | None] = []
    widened = False
    for index, (out, ref, dtype) in enumerate(zip(eager, reference.outputs, reference.dtypes)):
        if not isinstance(out, torch.Tensor) or not isinstance(ref, torch.Tensor) or not out.dtype.is_floating_point:
            tolerances.append(None)
            continue
        tol = reference.tolerance(index, dtype or out.dtype, metadata)
        found = compare(out, ref, tol)
        if "nan_inf" in found.rules:
            return None
        if not found.passed:
            widened = True
            tol = _widened(tol, found)
        tolerances.append(tol)
    return tolerances if widened else None


def judge_against_eager(eager: list[Any], reference: list[Any], dtypes: list[torch.dtype | None],
                        metadata: dict[str, Any]) -> Judgement:
    """Tolerances from eager's error against the float64 reference; a skip reason where eager fails."""
    tolerances: list[Tolerance | None] = []
    for index, (out, ref, dtype) in enumerate(zip(eager, reference, dtypes)):
        if not isinstance(out, torch.Tensor) or not isinstance(ref, torch.Tensor) or not out.dtype.is_floating_point:
            tolerances.append(None)
            continue
        tol = tolerance_for(dtype or out.dtype, metadata)
        found = compare(out, ref, Tolerance(tol.atol * EAGER_SLACK, tol.rtol * EAGER_SLACK, tol.rel_norm * EAGER_SLACK))
        where = f"output {index}" if len(eager) > 1 else "the output"
        if "nan_inf" in found.rules:
            return Judgement([], f"skipped: eager {dtype_name(out.dtype)} gives NaN/Inf in {where} on these inputs")
        if not found.passed:
            return Judgement([], f"skipped: eager {dtype_name(out.dtype)} itself misses {EAGER_SLACK:g}x the tolerance "
                                 f"in {where} ({'; '.join(found.notes)})")
        tolerances.append(_widened(tol, found))
    return Judgement(tolerances)


def _widened(tol: Tolerance, eager_error: Any) -> Tolerance:
    """`tol`, its absolute and relative-norm bounds raised to ERROR_FACTOR x eager's error where that is larger."""
    return Tolerance(max(tol.atol, ERROR_FACTOR * (eager_error.max_abs_err or 0.0)), tol.rtol,
                     max(tol.rel_norm, ERROR_FACTOR * (eager_error.rel_norm_err or 0.0)))
