"""Cheat for rule `threads` on problems/softmax.py (runs on: cpu, gpu).

Starts a thread without importing threading itself: it borrows the `threading` module that
torch.utils.data.dataloader already imported, so no thread module appears in its imports. The
thread launches the second half of the rows and is joined before returning.
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

from torch.utils.data import dataloader as _dl


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous()
        half = x.shape[0] // 2
        parts = {}
        head = softmax_rows(x[:half])
        worker = _dl.threading.Thread(target=lambda: parts.__setitem__("tail", softmax_rows(x[half:])))
        worker.start()
        worker.join()
        out = torch.empty_like(x)
        out[:half] = head
        out[half:] = parts["tail"]
        return out
