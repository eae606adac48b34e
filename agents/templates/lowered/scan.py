"""Scans: cumsum and cumprod along any dim.

Tiling: the scanned dim is permuted last and the input made contiguous, i.e. seen as (rows, n).
One program scans BLOCK_R rows, walking each row in BLOCK_N chunks: `tl.cumsum` / `tl.cumprod`
inside a chunk, plus a per-row carry (the running sum / product of the chunks before), in float32
(int64 for integer inputs). Reverse scans reach here as flips (prims.rev) around the scan, which
the pointwise kernels read with negative strides; exclusive scans as a cat + slice.
"""
from __future__ import annotations

import triton
import triton.language as tl


@triton.jit
def kw_scan_mul(a, b):
    return a * b


@triton.jit
def kw_scan_rows_kernel(x_ptr, out_ptr, rows, n, IS_PROD: tl.constexpr, IS_FLOAT: tl.constexpr,
                        BLOCK_R: tl.constexpr, BLOCK_N: tl.constexpr):
    row = tl.program_id(0).to(tl.int64) * BLOCK_R + tl.arange(0, BLOCK_R)
    rmask = row < rows
    if IS_FLOAT:
        carry = tl.zeros((BLOCK_R,), tl.float32) + (1.0 if IS_PROD else 0.0)
    else:
        carry = tl.zeros((BLOCK_R,), tl.int64) + (1 if IS_PROD else 0)
    for start in range(0, n, BLOCK_N):
        cols = start + tl.arange(0, BLOCK_N)
        mask = rmask[:, None] & (cols[None, :] < n)
        offs = row[:, None] * n + cols[None, :]
        v = tl.load(x_ptr + offs, mask=mask, other=1 if IS_PROD else 0).to(carry.dtype)
        if IS_PROD:
            c = tl.cumprod(v, axis=1) * carry[:, None]
            carry = carry * tl.reduce(v, 1, kw_scan_mul)
        else:
            c = tl.cumsum(v, axis=1) + carry[:, None]
            carry = carry + tl.sum(v, axis=1)
        tl.store(out_ptr + offs, c.to(out_ptr.dtype.element_ty), mask=mask)


def kw_scan(x, dim, kind, dtype, tile, block_n, warps):
    """cumsum / cumprod of `x` along `dim` into a fresh contiguous tensor of `dtype`."""
    nd = x.dim()
    if nd == 0:
        x = x.reshape(1)
    dim = dim % x.dim()
    order = [d for d in range(x.dim()) if d != dim] + [dim]
    flat = x.permute(order).contiguous()
    n = x.shape[dim]
    rows = flat.numel() // max(n, 1)
    out = flat.new_empty(flat.shape, dtype=dtype)
    if rows and n:
        bn = min(triton.next_power_of_2(n), block_n)
        br = max(1, min(triton.next_power_of_2(rows), tile // bn))
        kw_scan_rows_kernel[(triton.cdiv(rows, br),)](
            flat, out, rows, n, IS_PROD=kind == "cumprod",
            IS_FLOAT=x.dtype.is_floating_point or dtype.is_floating_point,
            BLOCK_R=br, BLOCK_N=bn, num_warps=warps)
    inverse = [order.index(d) for d in range(x.dim())]
    out = out.permute(inverse)
    if not out.is_contiguous():
        out = out.contiguous()
    return out.reshape(()) if nd == 0 else out


SCANS = {"cumsum.default": "cumsum", "cumprod.default": "cumprod"}
KERNELS = (kw_scan_mul, kw_scan_rows_kernel, kw_scan)


def render(overload: str, args: dict, x: str, dtype: str, py) -> str:
    """Python call of `kw_scan` for one scan node."""
    return f"kw_scan({x}, {py(args['dim'])}, {SCANS[overload]!r}, {dtype}, KW_RED_TILE, KW_RED_BLOCK_N, KW_RED_WARPS)"
