"""Cheat for rule `extra_shape` on problems/gelu_bias.py (runs on: cpu, gpu).

Drops the tail handling to shave the mask arithmetic: the grid covers only the full 1024-element
blocks and loads/stores are unmasked. Right whenever ROWS * COLS is a multiple of 1024 (the main
and small shapes); on a ragged shape the last partial block stays zero.
"""
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def gelu_bias_nomask_kernel(x_ptr, bias_ptr, out_ptr, n_cols, BLOCK: tl.constexpr):
    offs = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    v = tl.load(x_ptr + offs) + tl.load(bias_ptr + offs % n_cols)
    tl.store(out_ptr + offs, 0.5 * v * (1.0 + tl.erf(v * 0.7071067811865476)))


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        x = x.contiguous()
        out = torch.zeros_like(x)
        full_blocks = x.numel() // 1024
        if full_blocks:
            gelu_bias_nomask_kernel[(full_blocks,)](x, bias, out, x.shape[-1], BLOCK=1024)
        return out
