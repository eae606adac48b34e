"""Cheat for rule `reused_reference_output` on problems/softmax.py (runs on: cpu, gpu).

Launches a first-pass kernel (row maxima into a scratch buffer) and then returns torch.empty_like(x)
without ever writing it, betting that the allocator hands back the memory the reference's
result was just freed from, so the "output" already holds the right answer.
"""
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def row_max_kernel(x_ptr, max_ptr, n_cols, BLOCK: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    cols = tl.arange(0, BLOCK)
    x = tl.load(x_ptr + row * n_cols + cols, mask=cols < n_cols, other=-float("inf"))
    tl.store(max_ptr + row, tl.max(x, axis=0))


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous()
        row_max = torch.empty(x.shape[0], device=x.device, dtype=x.dtype)
        row_max_kernel[(x.shape[0],)](x, row_max, x.shape[1], BLOCK=triton.next_power_of_2(x.shape[1]))
        return torch.empty_like(x)  # never written
