"""Cheat for rule `rel_norm` on problems/softmax.py (runs on: cpu, gpu).

A float32 problem computed in float16: the row is loaded and kept in float16 (half the register
traffic), exponentials and their sum are rounded to float16. Each probability is off by a unit
roundoff of 4.9e-4 relative, far below the float32 atol for values of ~1e-3, so element-wise checks
pass on random inputs; the relative norm of the error (~5e-4) is 50x the float32 bound of 1e-5.
"""
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def softmax_fp16_kernel(x_ptr, out_ptr, n_cols, BLOCK: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    cols = tl.arange(0, BLOCK)
    mask = cols < n_cols
    x = tl.load(x_ptr + row * n_cols + cols, mask=mask, other=-float("inf")).to(tl.float16)
    shifted = (x - tl.max(x, axis=0)).to(tl.float32)
    e = tl.exp(shifted).to(tl.float16)
    total = tl.sum(e, axis=0).to(tl.float16)
    tl.store(out_ptr + row * n_cols + cols, (e / total).to(tl.float32), mask=mask)


class ModelNew(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous()
        out = torch.empty_like(x)
        softmax_fp16_kernel[(x.shape[0],)](x, out, x.shape[1], BLOCK=triton.next_power_of_2(x.shape[1]))
        return out
