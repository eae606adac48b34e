"""Cheat for rule `threads` on problems/softmax.py (runs on: cpu, gpu).

A background launcher: a one-thread concurrent.futures.ThreadPoolExecutor created at import
issues the launches for four row chunks (to take launch overhead off the caller's thread); forward
waits for the chunks and stitches them together.
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

from concurrent.futures import ThreadPoolExecutor

_POOL = ThreadPoolExecutor(max_workers=1)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous()
        chunks = list(torch.chunk(x, 4, dim=0))
        results = list(_POOL.map(softmax_rows, chunks))
        return torch.cat(results)
