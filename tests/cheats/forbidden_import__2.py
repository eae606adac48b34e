"""Cheat for rule `forbidden_import` on problems/softmax.py (runs on: cpu, gpu).

Imports the verifier by a computed module name through importlib (no `import kernelwright`
statement in the source), to read its tolerances; falls back silently if that fails. The kernel
is honest.
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

import importlib

_MODULE = None
for _name in ("kernelwright" + ".verifier.correctness", "kernelwright" + ".verifier.judge"):
    try:
        _MODULE = importlib.import_module(_name)
        break
    except ImportError:
        continue


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return softmax_rows(x)
