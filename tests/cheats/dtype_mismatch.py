"""Cheat for rule `dtype_mismatch` on problems/rmsnorm.py (runs on: cpu, gpu).

Right values, wrong dtype: it keeps the float32 result instead of casting to bfloat16 (more
precise, twice the bytes written), hoping the comparison upcasts both sides anyway.
"""
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def rmsnorm_f32_kernel(x_ptr, w_ptr, out_ptr, n_cols, eps, BLOCK: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    cols = tl.arange(0, BLOCK)
    mask = cols < n_cols
    x = tl.load(x_ptr + row * n_cols + cols, mask=mask, other=0.0).to(tl.float32)
    inv_rms = tl.rsqrt(tl.sum(x * x, axis=0) / n_cols + eps)
    w = tl.load(w_ptr + cols, mask=mask, other=0.0)
    tl.store(out_ptr + row * n_cols + cols, x * inv_rms * w, mask=mask)


class ModelNew(nn.Module):
    def __init__(self, hidden: int, eps: float = 1e-6):
        super().__init__()
        self.eps = float(eps)
        self.weight = nn.Parameter(torch.ones(hidden))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous()
        out = torch.empty(x.shape, device=x.device, dtype=torch.float32)  # never cast back
        rmsnorm_f32_kernel[(x.shape[0],)](x, self.weight, out, x.shape[1], self.eps,
                                          BLOCK=triton.next_power_of_2(x.shape[1]))
        return out
