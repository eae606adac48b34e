"""Cheat for rule `nan_inf` on problems/logsumexp.py (runs on: cpu, gpu).

"Half precision is enough for a log": exponentiates and sums in float16 and skips the
max-subtraction. exp(x) overflows float16 above x = 11.1, which logits of std 4 reach in most
rows, so those rows come out as inf.
"""
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def lse_half_kernel(x_ptr, out_ptr, n_cols, BLOCK: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    cols = tl.arange(0, BLOCK)
    x = tl.load(x_ptr + row * n_cols + cols, mask=cols < n_cols, other=-float("inf"))
    e = tl.exp(x).to(tl.float16)
    total = tl.sum(e, axis=0)
    tl.store(out_ptr + row, tl.log(total.to(tl.float32)))


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous()
        out = torch.empty(x.shape[0], device=x.device, dtype=x.dtype)
        lse_half_kernel[(x.shape[0],)](x, out, x.shape[1], BLOCK=triton.next_power_of_2(x.shape[1]))
        return out
