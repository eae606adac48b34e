"""Tolerances and output comparison against the (float64 where possible) reference.

Default tolerances, per output dtype (problems override with ATOL / RTOL, a float or a dict keyed
by dtype name):

    dtype       atol    rtol    relative-norm bound
    float64     1e-7    1e-7    1e-9
    float32     1e-4    1e-4    1e-5
    float16     1e-3    1e-3    1e-3
    bfloat16    1e-2    1e-2    1e-2

Why these: the reference runs in float64, so an honest float32 kernel differs only by float32
rounding and accumulation order (relative error ~1e-7..1e-6, relative norm well below 1e-5).
A kernel that silently computes in float16 rounds every value to 11 significant bits: element
errors up to ~5e-4 relative (beyond rtol=1e-4) and a relative norm of ~3e-4 -- thirty times the
1e-5 bound. The relative-norm check stands beside the element-wise one because outputs of tiny
magnitude (softmax over many columns, ~1e-4 each) pass `atol` even when they are all zero or
badly rounded; the norm ratio does not scale with magnitude. float16 / bfloat16 bounds sit a
little above their own output rounding (half an ulp: 4.9e-4 and 3.9e-3 relative).
When a problem loosens RTOL (e.g. a tf32 matmul), the relative-norm bound becomes at least RTOL.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import torch

from .chunks import float64_pieces, paired_pieces

DEFAULTS: dict[str, tuple[float, float, float]] = {
    "float64": (1e-7, 1e-7, 1e-9),
    "float32": (1e-4, 1e-4, 1e-5),
    "float16": (1e-3, 1e-3, 1e-3),
    "bfloat16": (1e-2, 1e-2, 1e-2),
}
FP8_DEFAULT = (1e-1, 1e-1, 6e-2)


@dataclass(frozen=True)
class Tolerance:
    atol: float
    rtol: float
    rel_norm: float


@dataclass
class Comparison:
    """What one output comparison found. `rules` is empty when the outputs agree."""

    rules: list[str] = field(default_factory=list)
    max_abs_err: float | None = None
    max_rel_err: float | None = None
    rel_norm_err: float | None = None
    mismatched: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.rules

    def add(self, rule: str, note: str) -> None:
        if rule not in self.rules:
            self.rules.append(rule)
        self.notes.append(note)


def dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).replace("torch.", "")


def tolerance_for(dtype: torch.dtype, metadata: dict[str, Any] | None = None) -> Tolerance:
    """Tolerance for an output dtype, with the problem's ATOL / RTOL overrides applied."""
    name = dtype_name(dtype)
    if name in DEFAULTS:
        atol, rtol, rel_norm = DEFAULTS[name]
    elif "float8" in name:
        atol, rtol, rel_norm = FP8_DEFAULT
    else:  # integer and bool outputs must match exactly
        atol, rtol, rel_norm = 0.0, 0.0, 0.0
    metadata = metadata or {}
    atol_o, rtol_o = _pick(metadata.get("atol"), name), _pick(metadata.get("rtol"), name)
    if atol_o is not None:
        atol = float(atol_o)
    if rtol_o is not None:
        rtol = float(rtol_o)
        rel_norm = max(rel_norm, rtol)
    return Tolerance(atol, rtol, rel_norm)


def _pick(value: Any, name: str) -> float | None:
    if isinstance(value, dict):
        return value.get(name)
    return value


def flatten(obj: Any) -> list[Any]:
    """A model output as a flat list (a tensor, or nested tuples / lists of them)."""
    if isinstance(obj, (list, tuple)):
        return [leaf for item in obj for leaf in flatten(item)]
    return [obj]


def compare(out: torch.Tensor, ref: torch.Tensor, tol: Tolerance) -> Comparison:
    """Element-wise, NaN/Inf and relative-norm comparison of one output with its reference.

    Walks both in float64 pieces (`chunks`), where the reference lives (or on the output's GPU),
    so no full-size float64 copy or temporary is made; the figures equal a whole-tensor pass."""
    result = Comparison()
    if out.shape != ref.shape:
        result.add("shape_mismatch", f"shape {tuple(out.shape)} != reference {tuple(ref.shape)}")
        return result
    if out.numel() == 0:
        return result
    bad_nonfinite = special_wrong = over = 0
    max_abs = max_rel = ref_norm = err_norm = 0.0
    for a, b in float64_pieces(out.detach(), ref.detach()):
        ref_finite = torch.isfinite(b)
        bad_nonfinite += int((ref_finite & ~torch.isfinite(a)).sum())
        # reference NaN / Inf: the candidate must reproduce them exactly
        special_wrong += int((~ref_finite & ~((a == b) | (torch.isnan(a) & torch.isnan(b)))).sum())
        diff = torch.where(ref_finite, (a - b).abs(), 0.0).nan_to_num_(nan=float("inf"))  # >= 0; 0 off the finite
        bound = tol.atol + tol.rtol * b.abs().nan_to_num(0.0, posinf=0.0, neginf=0.0)
        over += int(((diff > bound) & ref_finite).sum())
        del bound
        max_abs = max(max_abs, float(diff.max()))
        max_rel = max(max_rel, float(torch.where(ref_finite, diff / b.abs().clamp_min(1e-30), 0.0).max()))
        del diff
        ref_norm = math.hypot(ref_norm, float(torch.linalg.vector_norm(torch.where(ref_finite, b, 0.0))))
        wrong = torch.nan_to_num(a - b, nan=1e300, posinf=1e300, neginf=1e300)
        err_norm = math.hypot(err_norm, float(torch.linalg.vector_norm(torch.where(ref_finite, wrong, 0.0))))
    if bad_nonfinite:
        result.add("nan_inf", f"{bad_nonfinite} NaN/Inf values where the reference is finite")
    result.mismatched = over + special_wrong
    result.max_abs_err, result.max_rel_err = max_abs, max_rel
    if result.mismatched > bad_nonfinite:
        result.add("values_mismatch", f"{result.mismatched - bad_nonfinite} of {ref.numel()} elements beyond "
                   f"atol={tol.atol:g} + rtol={tol.rtol:g}*|ref| (max abs err {result.max_abs_err:.3g})")
    result.rel_norm_err = err_norm / ref_norm if ref_norm > 0 else err_norm
    if result.rel_norm_err > tol.rel_norm:
        result.add("rel_norm", f"relative norm error {result.rel_norm_err:.3g} > {tol.rel_norm:g}")
    return result


def layout_mismatch(stride: list[int] | None, ref: torch.Tensor) -> str | None:
    """Why an output's strides differ from the reference's, or None when they agree.

    Dims of size 1 are ignored (their stride means nothing). A reference that is not dense and
    non-overlapping (an expanded or strided view) sets no layout: any layout of the candidate does.
    """
    if stride is None or not isinstance(ref, torch.Tensor) or ref.numel() == 0 or not _dense(ref):
        return None
    wanted = [s for n, s in zip(ref.shape, ref.stride()) if n > 1]
    got = [s for n, s in zip(ref.shape, stride) if n > 1]
    if got == wanted:
        return None
    return (f"strides {tuple(stride)} != reference {tuple(ref.stride())} "
            "(return the reference's layout, e.g. .contiguous())")


def _dense(t: torch.Tensor) -> bool:
    """Whether a tensor's elements fill its memory span exactly once (some permutation of contiguous)."""
    expected = 1
    for n, s in sorted(((n, s) for n, s in zip(t.shape, t.stride()) if n > 1), key=lambda d: d[1]):
        if s != expected:
            return False
        expected *= n
    return True


def same_within(first: torch.Tensor, second: torch.Tensor, tol: Tolerance) -> bool:
    """Whether two candidate outputs on the same inputs agree up to rounding (NaNs equal)."""
    if first.shape != second.shape or first.dtype != second.dtype:
        return False
    for a, b in float64_pieces(first, second):
        both_nan = torch.isnan(a) & torch.isnan(b)
        close = (a - b).abs() <= tol.atol + tol.rtol * b.abs()
        if not bool((close | both_nan | (a == b)).all()):
            return False
    return True


def exactly_equal(first: Any, second: Any) -> bool:
    """Bitwise equality of two tensors, NaNs equal (inputs before / after a call), piece by piece."""
    if not isinstance(first, torch.Tensor) or not isinstance(second, torch.Tensor):
        return False
    if first.shape != second.shape or first.dtype != second.dtype or first.numel() == 0:
        return False
    for a, b in paired_pieces(first, second):
        if not (torch.equal(a, b) or (bool((torch.isnan(a) & torch.isnan(b) | (a == b)).all())
                                      if a.dtype.is_floating_point else False)):
            return False
    return True
