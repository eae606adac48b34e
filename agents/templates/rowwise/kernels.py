"""Triton kernel text for the row-wise template family (see rowwise.py).

Two variants per kind, both one program per row of the (rows, n_cols) view:
- "block": the whole row in one tile of BLOCK_N = next_power_of_2(n_cols) lanes (short rows);
- "online": a loop over BLOCK_N-wide chunks, so rows of any length fit in registers. Softmax and
  logsumexp keep a running max and a rescaled running sum (one pass for the statistics).
All arithmetic is in float32; exponentials use exp2 with log2(e) folded in once.
"""
from __future__ import annotations

HEADER = '''@triton.jit
def row_kernel(x_ptr, w_ptr, b_ptr, out_ptr, n_cols, stride_x, stride_out, eps,
               BLOCK_N: tl.constexpr, HAS_WEIGHT: tl.constexpr, HAS_BIAS: tl.constexpr):
    row = tl.program_id(axis=0)
    x_row = x_ptr + row.to(tl.int64) * stride_x
    out_row = out_ptr + row.to(tl.int64) * stride_out
    LOG2E: tl.constexpr = 1.4426950408889634
'''

_AFFINE = '''
    if HAS_WEIGHT:
        y = y * tl.load(w_ptr + cols, mask=mask, other=0.0).to(tl.float32)
    if HAS_BIAS:
        y = y + tl.load(b_ptr + cols, mask=mask, other=0.0).to(tl.float32)
'''

_STORE_ROW = "    tl.store(out_row + cols, y.to(out_ptr.dtype.element_ty), mask=mask)\n"
_STORE_ONE = "    tl.store(out_row, y.to(out_ptr.dtype.element_ty))\n"

_BLOCK_LOAD = '''    cols = tl.arange(0, BLOCK_N)
    mask = cols < n_cols
    x = tl.load(x_row + cols, mask=mask, other={other}).to(tl.float32)
'''

BLOCK_BODIES = {
    "softmax": _BLOCK_LOAD.format(other='-float("inf")') + '''    m = tl.max(x, axis=0)
    e = tl.exp2((x - m) * LOG2E)
    y = e / tl.sum(e, axis=0)
''' + _STORE_ROW,
    "logsumexp": _BLOCK_LOAD.format(other='-float("inf")') + '''    m = tl.max(x, axis=0)
    y = m + tl.log(tl.sum(tl.exp2((x - m) * LOG2E), axis=0))
''' + _STORE_ONE,
    "row_sum": _BLOCK_LOAD.format(other="0.0") + "    y = tl.sum(x, axis=0)\n" + _STORE_ONE,
    "layernorm": _BLOCK_LOAD.format(other="0.0") + '''    mean = tl.sum(x, axis=0) / n_cols
    d = tl.where(mask, x - mean, 0.0)
    var = tl.sum(d * d, axis=0) / n_cols
    y = d / tl.sqrt(var + eps)
''' + _AFFINE + _STORE_ROW,
    "rmsnorm": _BLOCK_LOAD.format(other="0.0") + '''    ms = tl.sum(x * x, axis=0) / n_cols
    y = x / tl.sqrt(ms + eps)
''' + _AFFINE + _STORE_ROW,
}

_CHUNK = '''    for start in range(0, n_cols, BLOCK_N):
        cols = start + tl.arange(0, BLOCK_N)
        mask = cols < n_cols
        x = tl.load(x_row + cols, mask=mask, other={other}).to(tl.float32)
'''

_ONLINE_MAX_SUM = '''    m_i = tl.max(tl.full([BLOCK_N], -float("inf"), tl.float32), axis=0)
    l_i = tl.sum(tl.zeros([BLOCK_N], tl.float32), axis=0)
''' + _CHUNK.format(other='-float("inf")') + '''        m_new = tl.maximum(m_i, tl.max(x, axis=0))
        # rescale the running sum to the new max, then add this chunk
        l_i = l_i * tl.exp2((m_i - m_new) * LOG2E) + tl.sum(tl.exp2((x - m_new) * LOG2E), axis=0)
        m_i = m_new
'''

ONLINE_BODIES = {
    "softmax": _ONLINE_MAX_SUM + _CHUNK.format(other="0.0") + '''        y = tl.exp2((x - m_i) * LOG2E) / l_i
        tl.store(out_row + cols, y.to(out_ptr.dtype.element_ty), mask=mask)
''',
    "logsumexp": _ONLINE_MAX_SUM + "    y = m_i + tl.log(l_i)\n" + _STORE_ONE,
    "row_sum": "    acc = tl.zeros([BLOCK_N], tl.float32)\n" + _CHUNK.format(other="0.0")
    + "        acc += x\n    y = tl.sum(acc, axis=0)\n" + _STORE_ONE,
    "layernorm": "    acc = tl.zeros([BLOCK_N], tl.float32)\n" + _CHUNK.format(other="0.0")
    + "        acc += x\n    mean = tl.sum(acc, axis=0) / n_cols\n"
    + "    acc2 = tl.zeros([BLOCK_N], tl.float32)\n" + _CHUNK.format(other="0.0")
    + "        d = tl.where(mask, x - mean, 0.0)\n        acc2 += d * d\n"
    + "    rstd = 1.0 / tl.sqrt(tl.sum(acc2, axis=0) / n_cols + eps)\n"
    + _CHUNK.format(other="0.0") + "        y = (x - mean) * rstd\n"
    + _AFFINE.replace("\n    ", "\n        ")
    + "        tl.store(out_row + cols, y.to(out_ptr.dtype.element_ty), mask=mask)\n",
    "rmsnorm": "    acc = tl.zeros([BLOCK_N], tl.float32)\n" + _CHUNK.format(other="0.0")
    + "        acc += x * x\n    rstd = 1.0 / tl.sqrt(tl.sum(acc, axis=0) / n_cols + eps)\n"
    + _CHUNK.format(other="0.0") + "        y = x * rstd\n"
    + _AFFINE.replace("\n    ", "\n        ")
    + "        tl.store(out_row + cols, y.to(out_ptr.dtype.element_ty), mask=mask)\n",
}


def kernel_source(kind: str, variant: str) -> str:
    """The `row_kernel` definition for one kind and variant."""
    bodies = BLOCK_BODIES if variant == "block" else ONLINE_BODIES
    return HEADER + bodies[kind]
