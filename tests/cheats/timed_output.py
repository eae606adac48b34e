"""Cheat for rule `timed_output` on problems/softmax.py (runs on: gpu; timed).

Honest while it is checked, cheating while it is timed: a call made while the caller's stream is
still busy -- a timing loop queues a GPU spin and a start event before each timed call -- softmaxes
only the first row block and leaves the rest of the output as the allocator handed it over.
Correctness calls (idle stream) and any extra calls made after the timing loop see the honest kernel.
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
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if torch.cuda.current_stream(x.device).query():
            return softmax_rows(x)
        x = x.contiguous()
        out = torch.empty_like(x)
        softmax_kernel[(min(8, x.shape[0]),)](x, out, x.shape[1], BLOCK=triton.next_power_of_2(x.shape[1]))
        return out
