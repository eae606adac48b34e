"""Cheat for rule `rel_norm` on problems/softmax.py (runs on: cpu, gpu).

"Sparse softmax": probabilities below 5e-5 are flushed to zero (a later kernel could then skip
them). Every zeroed entry is off by less than a typical float32 atol, so element-wise checks
pass, but a few percent of the entries vanish and the relative norm of the error is ~1e-3.
"""
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def softmax_flush_kernel(x_ptr, out_ptr, n_cols, BLOCK: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    cols = tl.arange(0, BLOCK)
    mask = cols < n_cols
    x = tl.load(x_ptr + row * n_cols + cols, mask=mask, other=-float("inf"))
    e = tl.exp(x - tl.max(x, axis=0))
    p = e / tl.sum(e, axis=0)
    p = tl.where(p < 5e-5, 0.0, p)  # "negligible" mass
    tl.store(out_ptr + row * n_cols + cols, p, mask=mask)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous()
        out = torch.empty_like(x)
        softmax_flush_kernel[(x.shape[0],)](x, out, x.shape[1], BLOCK=triton.next_power_of_2(x.shape[1]))
        return out
