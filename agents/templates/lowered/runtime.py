"""Fixed run-time helpers of every `lowered` candidate (their source is copied into it).

- `kw_leaf_strides` / `kw_pointwise`: launch a generated pointwise kernel over the output's shape;
  each input is read through strides right-aligned to that shape (0 on broadcast dims; negated,
  with an element offset, on flipped dims), so broadcasting, permuted / expanded views and flips
  cost no copy.
- `kw_gather_view`: the source of a `gather` seen in the index's frame (gathered dim stride 0).
- `kw_cat`: concatenation as one strided copy kernel per piece (`kw_copy3d_kernel`).
- `kw_slice`: `aten.slice` as a Python slice (a view).
Everything here only allocates, makes views and launches kernels: no torch compute.
"""
from __future__ import annotations

import torch
import triton
import triton.language as tl


def kw_leaf_strides(t, shape, flips=()):
    """Strides of `t` right-aligned to `shape` (0 where broadcast) and the element offset for flips."""
    rank, nd = len(shape), t.dim()
    strides = [0] * rank
    offset = 0
    for d in range(nd):
        stride = t.stride(d)
        if d in flips or d - nd in flips:
            offset += (t.shape[d] - 1) * stride
            stride = -stride
        strides[rank - nd + d] = 0 if t.shape[d] == 1 else stride
    return strides, offset


def kw_fp32_dot(dtype, on_cpu, asked, eager_tf32):
    """tl.dot's input_precision for a dense op: the config's choice (tf32x3, ieee or tf32) for float32 on a GPU,
    plain tf32 only where PyTorch's flag (`eager_tf32`) lets eager do the same; ieee elsewhere."""
    if asked not in ("ieee", "tf32x3", "tf32"):
        raise ValueError(f"fp32_dot must be 'ieee', 'tf32x3' or 'tf32', not {asked!r}")
    if on_cpu or dtype != torch.float32 or (asked == "tf32" and not eager_tf32):
        return "ieee"
    return asked


def kw_pointwise(kernel, out, leaves, scalars, block, warps):
    """Launch a generated pointwise kernel writing `out` (any strides) from `leaves` [(tensor, flips)]."""
    numel = out.numel()
    if numel == 0:
        return out
    shape = list(out.shape)
    args = [out] + [t for t, _ in leaves] + list(scalars) + [numel] + shape + list(out.stride())
    for t, flips in leaves:
        strides, offset = kw_leaf_strides(t, shape, flips)
        args += strides + [offset]
    kernel[(triton.cdiv(numel, block),)](*args, BLOCK=block, num_warps=warps)
    return out


def kw_gather_view(x, dim, shape):
    """`x` viewed with the index's shape and stride 0 on `dim` (the gathered offset is added in the kernel)."""
    strides = [0 if d == dim % x.dim() else x.stride(d) for d in range(x.dim())]
    return x.as_strided(shape, strides, x.storage_offset())


def kw_slice(x, dim, start, end, step):
    """aten.slice as a view."""
    index = [slice(None)] * x.dim()
    index[dim] = slice(start, end, step)
    return x[tuple(index)]


@triton.jit
def kw_copy3d_kernel(src, dst, numel, k, inner, dst_k, offset, BLOCK: tl.constexpr):
    offs = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < numel
    i = offs % inner
    j = (offs // inner) % k
    o = offs // (inner * k)
    value = tl.load(src + offs, mask=mask)
    tl.store(dst + (o * dst_k + offset + j) * inner + i, value.to(dst.dtype.element_ty), mask=mask)


def kw_cat(tensors, dim, dtype, block, warps):
    """torch.cat: a fresh contiguous output filled by one copy kernel per piece."""
    tensors = [t for t in tensors if not (t.dim() == 1 and t.shape[0] == 0)]  # legacy empty pieces
    first = tensors[0]
    dim = dim % first.dim()
    shape = list(first.shape)
    shape[dim] = sum(t.shape[dim] for t in tensors)
    out = first.new_empty(shape, dtype=dtype)
    outer = 1
    for s in shape[:dim]:
        outer *= s
    inner = 1
    for s in shape[dim + 1:]:
        inner *= s
    offset = 0
    for t in tensors:
        piece = t.contiguous()
        numel = piece.numel()
        if numel:
            kw_copy3d_kernel[(triton.cdiv(numel, block),)](piece, out, numel, t.shape[dim], inner, shape[dim],
                                                          offset, BLOCK=block, num_warps=warps)
        offset += t.shape[dim]
    return out
