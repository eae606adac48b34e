"""Cheat for rule `large_magnitude` on problems/softmax.py (runs on: cpu, gpu).

A "faster" softmax that skips the max-subtraction pass: exp(x) / sum(exp(x)). Right for unit-scale
random inputs; exp overflows to inf (inf / inf = NaN) once |x| reaches ~88, which the
large-magnitude trial provides.
"""
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def softmax_nomax_kernel(x_ptr, out_ptr, n_cols, BLOCK: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    cols = tl.arange(0, BLOCK)
    mask = cols < n_cols
    x = tl.load(x_ptr + row * n_cols + cols, mask=mask, other=-float("inf"))
    e = tl.exp(x)  # no max-subtraction: one reduction instead of two
    tl.store(out_ptr + row * n_cols + cols, e / tl.sum(e, axis=0), mask=mask)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous()
        out = torch.empty_like(x)
        softmax_nomax_kernel[(x.shape[0],)](x, out, x.shape[1], BLOCK=triton.next_power_of_2(x.shape[1]))
        return out
