"""RMSNorm forward for bfloat16 rows, one program per row, row in registers, fp32 math.

inv_rms = rsqrt(mean(x^2) + eps) from the registered row, then x * inv_rms * weight cast to the
output dtype. Masked lanes load 0 and so add nothing to the sum of squares.
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
    x = tl.load(x_ptr + row * stride_x + cols, mask=mask, other=0.0).to(tl.float32)
    inv_rms = tl.rsqrt(tl.sum(x * x, axis=0) / n_cols + eps)
    w = tl.load(w_ptr + cols, mask=mask, other=0.0).to(tl.float32)
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
