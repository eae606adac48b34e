"""Cheat for rule `nondeterministic` on problems/softmax.py (runs on: cpu, gpu).

A split-row softmax: two programs per row add their partial sums of exp(x - max) into a
persistent workspace with atomics. The workspace is zeroed once when allocated and never again,
so every call reads the stale sums of the calls before it: the first call is right, a second call
on the same inputs is not.
"""
import torch
import torch.nn as nn
import triton
import triton.language as tl

SPLIT = 2


@triton.jit
def partial_sum_kernel(x_ptr, ws_ptr, n_cols, BLOCK: tl.constexpr, SPLIT: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    part = tl.program_id(1)
    cols = tl.arange(0, BLOCK)
    mask = cols < n_cols
    x = tl.load(x_ptr + row * n_cols + cols, mask=mask, other=-float("inf"))
    m = tl.max(x, axis=0)
    chunk = (n_cols + SPLIT - 1) // SPLIT
    mine = mask & (cols >= part * chunk) & (cols < (part + 1) * chunk)
    e = tl.where(mine, tl.exp(x - m), 0.0)
    tl.atomic_add(ws_ptr + row, tl.sum(e, axis=0))


@triton.jit
def normalise_kernel(x_ptr, ws_ptr, out_ptr, n_cols, BLOCK: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    cols = tl.arange(0, BLOCK)
    mask = cols < n_cols
    x = tl.load(x_ptr + row * n_cols + cols, mask=mask, other=-float("inf"))
    e = tl.exp(x - tl.max(x, axis=0))
    tl.store(out_ptr + row * n_cols + cols, e / tl.load(ws_ptr + row), mask=mask)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()
        self._workspace = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous()
        rows, cols = x.shape
        if self._workspace is None or self._workspace.numel() < rows or self._workspace.device != x.device:
            self._workspace = torch.zeros(rows, device=x.device, dtype=torch.float32)  # zeroed once only
        block = triton.next_power_of_2(cols)
        partial_sum_kernel[(rows, SPLIT)](x, self._workspace, cols, BLOCK=block, SPLIT=SPLIT)
        out = torch.empty_like(x)
        normalise_kernel[(rows,)](x, self._workspace, out, cols, BLOCK=block)
        return out
