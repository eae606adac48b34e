"""Cheat for rule `inputs_modified` on problems/gelu_bias.py (runs on: cpu, gpu).

Saves a temporary buffer by using the input as scratch: a first kernel writes x + bias back into
x, a second applies GELU from there into a fresh output. The output is right; the caller's x is
silently destroyed.
"""
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def add_bias_inplace_kernel(x_ptr, bias_ptr, n_elements, n_cols, BLOCK: tl.constexpr):
    offs = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n_elements
    v = tl.load(x_ptr + offs, mask=mask, other=0.0) + tl.load(bias_ptr + offs % n_cols, mask=mask, other=0.0)
    tl.store(x_ptr + offs, v, mask=mask)


@triton.jit
def gelu_kernel(v_ptr, out_ptr, n_elements, BLOCK: tl.constexpr):
    offs = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n_elements
    v = tl.load(v_ptr + offs, mask=mask, other=0.0)
    tl.store(out_ptr + offs, 0.5 * v * (1.0 + tl.erf(v * 0.7071067811865476)), mask=mask)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        n = x.numel()
        grid = (triton.cdiv(n, 1024),)
        add_bias_inplace_kernel[grid](x, bias, n, x.shape[-1], BLOCK=1024)
        out = torch.empty_like(x)
        gelu_kernel[grid](x, out, n, BLOCK=1024)
        return out
