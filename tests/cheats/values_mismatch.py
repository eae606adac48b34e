"""Cheat for rule `values_mismatch` on problems/gelu_bias.py (runs on: cpu, gpu).

Silently computes in float16 (half the bytes, twice the math rate): loads, adds the bias and
evaluates GELU on float16 values, then widens back to float32. Every output carries float16
rounding (~5e-4 relative), far beyond a float32 tolerance.
"""
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def gelu_bias_half_kernel(x_ptr, bias_ptr, out_ptr, n_elements, n_cols, BLOCK: tl.constexpr):
    offs = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n_elements
    x = tl.load(x_ptr + offs, mask=mask, other=0.0).to(tl.float16)
    b = tl.load(bias_ptr + offs % n_cols, mask=mask, other=0.0).to(tl.float16)
    v = x + b
    g = (v * (1.0 + tl.erf(v.to(tl.float32) * 0.7071067811865476).to(tl.float16)) * 0.5).to(tl.float16)
    tl.store(out_ptr + offs, g.to(tl.float32), mask=mask)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        x = x.contiguous()
        out = torch.empty_like(x)
        n = x.numel()
        gelu_bias_half_kernel[(triton.cdiv(n, 1024),)](x, bias, out, n, x.shape[-1], BLOCK=1024)
        return out
