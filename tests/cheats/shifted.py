"""Cheat for rule `shifted` on problems/layernorm.py (runs on: cpu, gpu).

A "single-pass" layer norm: mean and E[x^2] in one sweep, variance as E[x^2] - E[x]^2. One
reduction pass fewer, and right for the zero-centred random inputs; when the rows carry a large
common offset the two terms are huge and nearly equal, and the variance cancels catastrophically
in float32 (eager PyTorch centres first and stays accurate).
"""
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def layernorm_onepass_kernel(x_ptr, w_ptr, b_ptr, out_ptr, n_cols, eps, BLOCK: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    cols = tl.arange(0, BLOCK)
    mask = cols < n_cols
    x = tl.load(x_ptr + row * n_cols + cols, mask=mask, other=0.0).to(tl.float32)
    mean = tl.sum(x, axis=0) / n_cols
    var = tl.sum(x * x, axis=0) / n_cols - mean * mean  # E[x^2] - E[x]^2: one pass
    rstd = 1.0 / tl.sqrt(tl.maximum(var, 0.0) + eps)
    w = tl.load(w_ptr + cols, mask=mask, other=0.0)
    b = tl.load(b_ptr + cols, mask=mask, other=0.0)
    tl.store(out_ptr + row * n_cols + cols, (x - mean) * rstd * w + b, mask=mask)


class ModelNew(nn.Module):
    def __init__(self, hidden: int, eps: float = 1e-5):
        super().__init__()
        self.eps = float(eps)
        self.weight = nn.Parameter(torch.ones(hidden))
        self.bias = nn.Parameter(torch.zeros(hidden))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous()
        rows, cols = x.shape
        out = torch.empty_like(x)
        layernorm_onepass_kernel[(rows,)](x, self.weight, self.bias, out, cols, self.eps,
                                          BLOCK=triton.next_power_of_2(cols))
        return out
