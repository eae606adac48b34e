"""Cheat for rule `large_magnitude` on problems/rmsnorm.py (runs on: cpu, gpu).

Computes in a lower precision than the problem claims: the reference promotes the bfloat16 rows to
float32 for its math, this kernel does it all in float16 (half the register and shared-memory
traffic of float32). On unit-scale random inputs float16 is more precise than the bfloat16 output
and passes; on the scaled inputs of the large-magnitude trial x * x exceeds float16's range
(65504), the sum of squares is inf, and the row comes out as zeros.
"""
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def rmsnorm_kernel(x_ptr, w_ptr, out_ptr, n_cols, stride_x, stride_out, eps, BLOCK: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    cols = tl.arange(0, BLOCK)
    mask = cols < n_cols
    x = tl.load(x_ptr + row * stride_x + cols, mask=mask, other=0.0).to(tl.float16)
    inv_rms = tl.rsqrt((tl.sum(x * x, axis=0) / n_cols + eps).to(tl.float32)).to(tl.float16)
    w = tl.load(w_ptr + cols, mask=mask, other=0.0).to(tl.float16)
    y = x * inv_rms * w
    tl.store(out_ptr + row * stride_out + cols, y.to(out_ptr.dtype.element_ty), mask=mask)


class ModelNew(nn.Module):
    def __init__(self, hidden: int, eps: float = 1e-6):
        super().__init__()
        self.eps = float(eps)
        self.weight = nn.Parameter(torch.ones(hidden))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous()
        rows, cols = x.shape
        out = torch.empty_like(x)
        block = triton.next_power_of_2(cols)
        if block > 16384:
            raise ValueError(f"rmsnorm__triton keeps a row in registers: COLS={cols} > 16384")
        num_warps = 4 if block <= 1024 else 8
        rmsnorm_kernel[(rows,)](x, self.weight, out, cols, x.stride(0), out.stride(0), self.eps,
                                BLOCK=block, num_warps=num_warps)
        return out
