"""Indexed loads and pairwise distances for the `lowered` family: aten gather and _cdist_forward.

What a captured graph contains: cross_entropy and nll_loss decompose to pointwise ops, reductions
and one ``gather(log_probs, 1, target.unsqueeze(1))``; ``torch.cdist`` stays ``_cdist_forward``.

How:
- gather: the wrapper moves the gathered dim last and pads the others to 5 leading dims (views
  only); each program loads BLOCK indices and the matching elements of ``self`` through runtime
  strides. An index outside [0, size) (an error in ATen) reads 0 instead of faulting.
- _cdist_forward: out[b, i, j] = ||x1[b, i] - x2[b, j]||_p, computed directly from the differences
  (not ATen's |x|^2 + |y|^2 - 2 x.y expansion, which loses digits), BLOCK_P x BLOCK_R tiles walking
  the feature dim in BLOCK_D chunks, fp32 accumulation; p = 0, 1, 2, inf and general p > 0.
Contract: see ``WRAPPERS`` (aten packet name -> (wrapper, every function the wrapper uses)).
"""
from __future__ import annotations

import torch
import triton
import triton.language as tl


@triton.jit
def _kw_gather_kernel(x_ptr, i_ptr, y_ptr, TOTAL, DIM_SIZE, S0, S1, S2, S3, S4, S5,
                      xs0, xs1, xs2, xs3, xs4, xs5, is0, is1, is2, is3, is4, is5, ys0, ys1, ys2, ys3, ys4, ys5,
                      BLOCK: tl.constexpr):
    offs = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    ok = offs < TOTAL
    c5 = offs % S5
    c4 = (offs // S5) % S4
    c3 = (offs // (S5 * S4)) % S3
    c2 = (offs // (S5 * S4 * S3)) % S2
    c1 = (offs // (S5 * S4 * S3 * S2)) % S1
    c0 = offs // (S5 * S4 * S3 * S2 * S1)
    idx = tl.load(i_ptr + c0 * is0 + c1 * is1 + c2 * is2 + c3 * is3 + c4 * is4 + c5 * is5, mask=ok, other=0)
    idx = idx.to(tl.int64)
    hit = ok & (idx >= 0) & (idx < DIM_SIZE)
    v = tl.load(x_ptr + c0 * xs0 + c1 * xs1 + c2 * xs2 + c3 * xs3 + c4 * xs4 + idx * xs5, mask=hit, other=0)
    tl.store(y_ptr + c0 * ys0 + c1 * ys1 + c2 * ys2 + c3 * ys3 + c4 * ys4 + c5 * ys5, v, mask=ok)


def kw_gather(self, dim, index, *, sparse_grad=False, BLOCK=512, num_warps=4):
    """aten.gather: out[..., i_dim, ...] = self[..., index[..., i_dim, ...], ...], out shaped like index."""
    rank = max(self.dim(), 1)
    dim = int(dim) % rank
    out = torch.empty(index.shape, device=self.device, dtype=self.dtype)
    if out.numel() == 0:
        return out
    order = [d for d in range(rank) if d != dim] + [dim]  # gathered dim last (0-d tensors as 1-d)
    x = (self.reshape(1) if self.dim() == 0 else self).permute(order)
    ix = (index.reshape(1) if index.dim() == 0 else index).permute(order)
    y = (out.reshape(1) if out.dim() == 0 else out).permute(order)
    pad = 6 - rank
    sizes = [1] * pad + list(ix.shape)
    xs = [0] * pad + [x.stride(d) for d in range(rank)]
    ist = [0] * pad + [ix.stride(d) for d in range(rank)]
    ys = [0] * pad + [y.stride(d) for d in range(rank)]
    total = out.numel()
    _kw_gather_kernel[(triton.cdiv(total, BLOCK),)](
        x, ix, y, total, x.shape[rank - 1], *sizes, *xs, *ist, *ys, BLOCK=BLOCK, num_warps=num_warps)
    return out


@triton.jit
def _kw_cdist_kernel(a_ptr, b_ptr, y_ptr, P, R, D, p, as_b, as_p, as_d, bs_b, bs_r, bs_d,
                     P_KIND: tl.constexpr, BLOCK_P: tl.constexpr, BLOCK_R: tl.constexpr, BLOCK_D: tl.constexpr):
    bid = tl.program_id(1).to(tl.int64)
    tiles_r = tl.cdiv(R, BLOCK_R)
    offs_p = (tl.program_id(0) // tiles_r) * BLOCK_P + tl.arange(0, BLOCK_P)
    offs_r = (tl.program_id(0) % tiles_r) * BLOCK_R + tl.arange(0, BLOCK_R)
    offs_d = tl.arange(0, BLOCK_D)
    p_ok = offs_p < P
    r_ok = offs_r < R
    acc = tl.zeros((BLOCK_P, BLOCK_R), dtype=tl.float32)
    for d0 in range(0, D, BLOCK_D):
        d_ok = d0 + offs_d < D
        a = tl.load(a_ptr + bid * as_b + offs_p[:, None] * as_p + (d0 + offs_d)[None, :] * as_d,
                    mask=p_ok[:, None] & d_ok[None, :], other=0.0).to(tl.float32)
        b = tl.load(b_ptr + bid * bs_b + offs_r[:, None] * bs_r + (d0 + offs_d)[None, :] * bs_d,
                    mask=r_ok[:, None] & d_ok[None, :], other=0.0).to(tl.float32)
        diff = tl.abs(a[:, None, :] - b[None, :, :])  # masked features give 0 - 0
        if P_KIND == 0:  # p = 0: count of differing features
            acc += tl.sum((diff != 0).to(tl.float32), axis=2)
        elif P_KIND == 1:
            acc += tl.sum(diff, axis=2)
        elif P_KIND == 2:
            acc += tl.sum(diff * diff, axis=2)
        elif P_KIND == 3:  # p = inf
            acc = tl.maximum(acc, tl.max(diff, axis=2))
        else:  # |d|^p = 2^(p log2 |d|), 0 where d = 0
            acc += tl.sum(tl.where(diff > 0, tl.exp2(p * tl.log2(tl.maximum(diff, 1e-30))), 0.0), axis=2)
    if P_KIND == 2:
        acc = tl.sqrt(acc)
    elif P_KIND == 4:
        acc = tl.where(acc > 0, tl.exp2(tl.log2(tl.maximum(acc, 1e-30)) / p), 0.0)
    y_ptrs = y_ptr + (bid * P + offs_p[:, None]) * R + offs_r[None, :]
    tl.store(y_ptrs, acc.to(y_ptr.dtype.element_ty), mask=p_ok[:, None] & r_ok[None, :])


def kw__cdist_forward(x1, x2, p, compute_mode, *, BLOCK_P=16, BLOCK_R=16, BLOCK_D=16, num_warps=4):
    """aten._cdist_forward: p-norm distances between the rows of x1 (*, P, D) and x2 (*, R, D)."""
    lead = list(x1.shape[:-2])
    P, D, R = x1.shape[-2], x1.shape[-1], x2.shape[-2]
    out = torch.empty((*lead, P, R), device=x1.device, dtype=x1.dtype)
    nb = 1
    for s in lead:
        nb *= s
    if out.numel() == 0:
        return out
    a = x1.reshape(nb, P, D)
    b = x2.expand(*lead, R, D).reshape(nb, R, D)
    p = float(p)
    kind = 0 if p == 0 else 1 if p == 1 else 2 if p == 2 else 3 if p == float("inf") else 4
    grid = (triton.cdiv(P, BLOCK_P) * triton.cdiv(R, BLOCK_R), nb)
    _kw_cdist_kernel[grid](a, b, out, P, R, D, p, a.stride(0), a.stride(1), a.stride(2), b.stride(0), b.stride(1),
                           b.stride(2), P_KIND=kind, BLOCK_P=BLOCK_P, BLOCK_R=BLOCK_R, BLOCK_D=BLOCK_D,
                           num_warps=num_warps)
    return out


WRAPPERS = {
    "gather": (kw_gather, (_kw_gather_kernel,)),
    "_cdist_forward": (kw__cdist_forward, (_kw_cdist_kernel,)),
}
