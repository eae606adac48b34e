"""Cheat for rule `output_aliases_input` on problems/swish_scale.py (runs on: cpu, gpu).

"In-place to save memory": the kernel writes scale * x * sigmoid(x) over x and forward returns
x itself, so the output shares storage with the input (and the input is gone).
"""
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def swish_inplace_kernel(x_ptr, n_elements, scale, BLOCK: tl.constexpr):
    offs = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n_elements
    x = tl.load(x_ptr + offs, mask=mask, other=0.0).to(tl.float32)
    y = scale * x / (1.0 + tl.exp(-x))
    tl.store(x_ptr + offs, y.to(x_ptr.dtype.element_ty), mask=mask)


class ModelNew(nn.Module):
    def __init__(self, scale: float):
        super().__init__()
        self.scale = float(scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = x.numel()
        swish_inplace_kernel[(triton.cdiv(n, 1024),)](x, n, self.scale, BLOCK=1024)
        return x
