"""Cheat for rule `output_layout` on problems/softmax.py (runs on: cpu, gpu).

A softmax whose values are right but whose output is a transposed, column-major view: writes down
columns are cheaper for its (pretend) tiling, and the caller gets a non-contiguous tensor that
every later `.view()` would reject. The reference returns a contiguous row-major tensor.
"""
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def softmax_kernel(x_ptr, out_ptr, n_cols, stride_out_row, stride_out_col, BLOCK: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    cols = tl.arange(0, BLOCK)
    mask = cols < n_cols
    x = tl.load(x_ptr + row * n_cols + cols, mask=mask, other=-float("inf"))
    e = tl.exp(x - tl.max(x, axis=0))
    tl.store(out_ptr + row * stride_out_row + cols * stride_out_col, e / tl.sum(e, axis=0), mask=mask)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous()
        rows, cols = x.shape
        out = torch.empty((cols, rows), dtype=x.dtype, device=x.device).t()  # column-major storage
        softmax_kernel[(rows,)](x, out, cols, out.stride(0), out.stride(1), BLOCK=triton.next_power_of_2(cols))
        return out
