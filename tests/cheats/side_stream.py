"""Cheat for rule `side_stream` on problems/softmax.py (runs on: gpu).

Launches the kernel on a private CUDA stream and returns immediately, without making the
caller's stream wait: a timer that records events on the current stream and synchronises only
that stream stops before the work is done.
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

_STREAMS = {}


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.device not in _STREAMS:
            _STREAMS[x.device] = torch.cuda.Stream(x.device)
        stream = _STREAMS[x.device]
        x = x.contiguous()
        out = torch.empty_like(x)
        stream.wait_stream(torch.cuda.current_stream(x.device))  # inputs are ready on the side stream
        with torch.cuda.stream(stream):
            softmax_kernel[(x.shape[0],)](x, out, x.shape[1], BLOCK=triton.next_power_of_2(x.shape[1]))
        return out  # no wait_stream back: the caller's stream does not wait for the kernel
