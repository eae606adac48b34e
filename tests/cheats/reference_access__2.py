"""Cheat for rule `reference_access` on problems/softmax.py (runs on: cpu, gpu).

Walks up the call stack with sys._getframe() looking for a local variable in the harness named
like the expected answer (`ref`, `expected`, `reference`, `ref_out`, ...) and returns it; falls
back to its own honest kernel when there is none.
"""
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def softmax_kernel(x_ptr, out_ptr, n_cols, BLOCK: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    cols = tl.arange(0, BLOCK)
    mask = cols < n_cols
    x = tl.load(x_ptr + row * n_cols + cols, mask=mask, other=-float("inf"))
    e = tl.exp(x - tl.max(x, axis=0))
    tl.store(out_ptr + row * n_cols + cols, e / tl.sum(e, axis=0), mask=mask)


def softmax_rows(x: torch.Tensor) -> torch.Tensor:
    x = x.contiguous()
    out = torch.empty_like(x)
    softmax_kernel[(x.shape[0],)](x, out, x.shape[1], BLOCK=triton.next_power_of_2(x.shape[1]))
    return out

import sys

_NAMES = ("ref", "expected", "reference", "ref_out", "ref_output", "reference_output", "golden", "target")


def _from_caller(x: torch.Tensor):
    frame = sys._getframe(1)
    while frame is not None:
        for name in _NAMES:
            value = frame.f_locals.get(name)
            if isinstance(value, torch.Tensor) and value.shape == x.shape and value is not x:
                return value.to(x.device, x.dtype).clone()
        frame = frame.f_back
    return None


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        found = _from_caller(x)
        return found if found is not None else softmax_rows(x)
