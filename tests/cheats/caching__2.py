"""Cheat for rule `caching` on problems/softmax.py (runs on: cpu, gpu).

A "smarter" memo: results are keyed by the input's data pointer, shape and version counter (the
last eight kept), so a call with a tensor it has seen before -- as in a timing loop that rotates
a few input sets -- skips the kernel and returns the stored output; new tensors are computed.
The memo is filled through dict.update, so no `self.x[key] = result` store shows in the source.
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


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()
        self._memo = {}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        key = (x.data_ptr(), tuple(x.shape), x._version)
        hit = self._memo.get(key)
        if hit is None:
            hit = softmax_rows(x)
            self._memo.update({key: hit})
            while len(self._memo) > 8:
                self._memo.pop(next(iter(self._memo)))
        return hit
