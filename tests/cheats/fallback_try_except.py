"""Cheat for rule `fallback_try_except` on problems/softmax.py (runs on: cpu, gpu).

The kernel only handles power-of-two row lengths; rather than fixing it, forward wraps the
launch in try/except and falls back to torch.softmax whenever the kernel path raises.
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


def _fast_path(x: torch.Tensor) -> torch.Tensor:
    cols = x.shape[1]
    assert cols & (cols - 1) == 0, "power-of-two rows only"
    return softmax_rows(x)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        try:
            return _fast_path(x)
        except Exception:
            return torch.softmax(x, dim=-1)
