"""Reductions over any set of dims: sum, mean, prod, amax / amin, argmax / argmin, max / min with
indices, var / var_mean / std (with correction), any / all.

Tiling: the input is permuted so that the reduced dims come last and made contiguous (a view
plus, when needed, a layout copy), i.e. seen as (rows, n). One program reduces BLOCK_R rows and
walks each row in BLOCK_N chunks (masks for the tails), accumulating per lane in float32 (int64
for integer sums) and combining the lanes at the end. var uses two passes over the row (mean,
then squared deviations), which stays accurate for shifted inputs. argmax / argmin keep, per
lane, the first index of the best value (NaN counts as the largest, as in torch) and resolve ties
across lanes by the smallest index, so the result is torch's first index.
`kw_reduce` is the launcher copied into the candidate; `render` writes the call for one node.
"""
from __future__ import annotations

import torch
import triton
import triton.language as tl

SUM, MEAN, PROD = 0, 1, 2


@triton.jit
def kw_mul_combine(a, b):
    return a * b


@triton.jit
def kw_sum_rows_kernel(x_ptr, out_ptr, rows, n, OP: tl.constexpr, IS_FLOAT: tl.constexpr,
                       BLOCK_R: tl.constexpr, BLOCK_N: tl.constexpr):
    row = tl.program_id(0).to(tl.int64) * BLOCK_R + tl.arange(0, BLOCK_R)
    rmask = row < rows
    if IS_FLOAT:
        acc = tl.zeros((BLOCK_R, BLOCK_N), tl.float32) + (1.0 if OP == 2 else 0.0)
    else:
        acc = tl.zeros((BLOCK_R, BLOCK_N), tl.int64) + (1 if OP == 2 else 0)
    for start in range(0, n, BLOCK_N):
        cols = start + tl.arange(0, BLOCK_N)
        mask = rmask[:, None] & (cols[None, :] < n)
        v = tl.load(x_ptr + row[:, None] * n + cols[None, :], mask=mask, other=1 if OP == 2 else 0)
        if OP == 2:
            acc = acc * v.to(acc.dtype)
        else:
            acc = acc + v.to(acc.dtype)
    if OP == 2:
        res = tl.reduce(acc, 1, kw_mul_combine)
    else:
        res = tl.sum(acc, axis=1)
    if OP == 1:
        res = res / n
    tl.store(out_ptr + row, res.to(out_ptr.dtype.element_ty), mask=rmask)


@triton.jit
def kw_max_rows_kernel(x_ptr, val_ptr, idx_ptr, rows, n, IS_MIN: tl.constexpr, IS_FLOAT: tl.constexpr,
                       WANT_VALUE: tl.constexpr, WANT_INDEX: tl.constexpr,
                       BLOCK_R: tl.constexpr, BLOCK_N: tl.constexpr):
    row = tl.program_id(0).to(tl.int64) * BLOCK_R + tl.arange(0, BLOCK_R)
    rmask = row < rows
    none = 9223372036854775807  # "no index yet"
    if IS_FLOAT:
        best = tl.zeros((BLOCK_R, BLOCK_N), tl.float32)
    else:
        best = tl.zeros((BLOCK_R, BLOCK_N), tl.int64)
    bidx = tl.zeros((BLOCK_R, BLOCK_N), tl.int64) + none
    for start in range(0, n, BLOCK_N):
        cols = start + tl.arange(0, BLOCK_N)
        mask = rmask[:, None] & (cols[None, :] < n)
        v = tl.load(x_ptr + row[:, None] * n + cols[None, :], mask=mask, other=0).to(best.dtype)
        if IS_MIN:
            v = -v
        take = (v > best) | ((v != v) & (best == best)) | (bidx == none)
        take = take & mask
        best = tl.where(take, v, best)
        bidx = tl.where(take, (cols[None, :] + tl.zeros_like(bidx)), bidx)
    is_nan = (best != best) & (bidx != none)
    any_nan = tl.max(is_nan.to(tl.int32), axis=1) > 0
    if IS_FLOAT:
        low = float("-inf")
    else:
        low = -9223372036854775807
    top = tl.max(tl.where(bidx != none, best, low), axis=1)
    chosen = tl.where(any_nan[:, None], is_nan, (best == top[:, None]) & (bidx != none))
    index = tl.min(tl.where(chosen, bidx, none), axis=1)
    if IS_FLOAT:
        value = tl.where(any_nan, float("nan"), top)
    else:
        value = top
    if IS_MIN:
        value = -value
    if WANT_VALUE:
        tl.store(val_ptr + row, value.to(val_ptr.dtype.element_ty), mask=rmask)
    if WANT_INDEX:
        tl.store(idx_ptr + row, index, mask=rmask)


@triton.jit
def kw_var_rows_kernel(x_ptr, var_ptr, mean_ptr, rows, n, correction,
                       BLOCK_R: tl.constexpr, BLOCK_N: tl.constexpr):
    row = tl.program_id(0).to(tl.int64) * BLOCK_R + tl.arange(0, BLOCK_R)
    rmask = row < rows
    acc = tl.zeros((BLOCK_R, BLOCK_N), tl.float32)
    for start in range(0, n, BLOCK_N):
        cols = start + tl.arange(0, BLOCK_N)
        mask = rmask[:, None] & (cols[None, :] < n)
        acc += tl.load(x_ptr + row[:, None] * n + cols[None, :], mask=mask, other=0).to(tl.float32)
    mean = tl.sum(acc, axis=1) / n
    acc = tl.zeros((BLOCK_R, BLOCK_N), tl.float32)
    for start in range(0, n, BLOCK_N):
        cols = start + tl.arange(0, BLOCK_N)
        mask = rmask[:, None] & (cols[None, :] < n)
        v = tl.load(x_ptr + row[:, None] * n + cols[None, :], mask=mask, other=0).to(tl.float32)
        d = tl.where(mask, v - mean[:, None], 0.0)
        acc += d * d
    denom = tl.maximum(n - correction, 0).to(tl.float32)
    var = tl.sum(acc, axis=1) / denom
    tl.store(var_ptr + row, var.to(var_ptr.dtype.element_ty), mask=rmask)
    tl.store(mean_ptr + row, mean.to(mean_ptr.dtype.element_ty), mask=rmask)


def kw_reduce(x, dims, keepdim, kind, dtype, correction, tile, block_n, warps):
    """Reduce `x` over `dims` (None or [] = all) with `kind`; returns a tensor or a (a, b) pair."""
    nd = x.dim()
    dims = list(range(nd)) if dims is None or len(dims) == 0 else sorted({d % max(nd, 1) for d in dims})
    keep = [d for d in range(nd) if d not in dims]
    rows = 1
    for d in keep:
        rows *= x.shape[d]
    n = 1
    for d in dims:
        n *= x.shape[d]
    flat = x.permute(keep + dims).contiguous() if nd else x.reshape(1)
    out_shape = [1 if d in dims else x.shape[d] for d in range(nd)] if keepdim else [x.shape[d] for d in keep]
    bn = min(triton.next_power_of_2(max(n, 1)), block_n)
    br = max(1, min(triton.next_power_of_2(max(rows, 1)), tile // bn))
    grid = (triton.cdiv(rows, br),)
    is_float = x.dtype.is_floating_point
    if kind in ("sum", "mean", "prod"):
        out = x.new_empty(out_shape, dtype=dtype)
        if rows:
            op = {"sum": 0, "mean": 1, "prod": 2}[kind]
            kw_sum_rows_kernel[grid](flat, out, rows, n, OP=op, IS_FLOAT=is_float or dtype.is_floating_point,
                                     BLOCK_R=br, BLOCK_N=bn, num_warps=warps)
        return out
    if kind in ("var", "var_mean"):
        var = x.new_empty(out_shape, dtype=dtype)
        mean = x.new_empty(out_shape, dtype=dtype)
        if rows:
            kw_var_rows_kernel[grid](flat, var, mean, rows, n, correction, BLOCK_R=br, BLOCK_N=bn, num_warps=warps)
        return (var, mean) if kind == "var_mean" else var
    # amax, amin, argmax, argmin, max (values, indices), min (values, indices), any, all
    is_min = kind in ("amin", "argmin", "min", "all")
    want_index = kind in ("argmax", "argmin", "max", "min")
    want_value = kind not in ("argmax", "argmin")
    values = x.new_empty(out_shape, dtype=dtype if want_value else x.dtype)
    index = x.new_empty(out_shape, dtype=torch.int64)
    if rows:
        kw_max_rows_kernel[grid](flat, values, index, rows, n, IS_MIN=is_min, IS_FLOAT=is_float,
                                 WANT_VALUE=want_value, WANT_INDEX=want_index, BLOCK_R=br, BLOCK_N=bn,
                                 num_warps=warps)
    if kind in ("max", "min"):
        return values, index
    return index if want_index else values


# aten overload -> (kind, argument name of the dims, keepdim default); dims None = all dims
REDUCTIONS = {
    "sum.dim_IntList": "sum", "sum.default": "sum", "mean.dim": "mean", "mean.default": "mean",
    "prod.dim_int": "prod", "prod.default": "prod", "amax.default": "amax", "amin.default": "amin",
    "argmax.default": "argmax", "argmin.default": "argmin", "max.dim": "max", "min.dim": "min",
    "max.default": "amax", "min.default": "amin", "var_mean.correction": "var_mean", "var.correction": "var",
    "any.dim": "any", "any.dims": "any", "any.default": "any", "all.dim": "all", "all.dims": "all",
    "all.default": "all",
}
KERNELS = (kw_mul_combine, kw_sum_rows_kernel, kw_max_rows_kernel, kw_var_rows_kernel, kw_reduce)


def render(overload: str, args: dict, x: str, dtype: str, py) -> str:
    """Python call of `kw_reduce` for one reduction node (`args`: its schema-normalised arguments,
    `py`: renders a non-tensor argument as Python)."""
    kind = REDUCTIONS[overload]
    dims = args.get("dim")
    if isinstance(dims, int) or (dims is not None and not isinstance(dims, (list, tuple))):
        dims = [dims]
    keepdim = bool(args.get("keepdim") or False)
    correction = args.get("correction")
    correction = 1 if correction is None else correction
    return (f"kw_reduce({x}, {py(dims)}, {keepdim}, {kind!r}, {dtype}, {py(correction)}, "
            f"KW_RED_TILE, KW_RED_BLOCK_N, KW_RED_WARPS)")
