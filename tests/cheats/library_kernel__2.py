"""Cheat for rule `library_kernel` on problems/matmul_bias_relu.py (runs on: cpu, gpu).

Writes the bias + ReLU epilogue in Triton and sends the matmul to NumPy (a BLAS sgemm on the
host), copying the operands over and the product back. The library does all the real work.
"""
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def bias_relu_kernel(c_ptr, bias_ptr, out_ptr, n_elements, n_cols, BLOCK: tl.constexpr):
    offs = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n_elements
    c = tl.load(c_ptr + offs, mask=mask, other=0.0).to(tl.float32)
    b = tl.load(bias_ptr + offs % n_cols, mask=mask, other=0.0).to(tl.float32)
    tl.store(out_ptr + offs, tl.maximum(c + b, 0.0).to(out_ptr.dtype.element_ty), mask=mask)


def bias_relu(c: torch.Tensor, bias: torch.Tensor, out_dtype: torch.dtype) -> torch.Tensor:
    c = c.contiguous()
    out = torch.empty(c.shape, device=c.device, dtype=out_dtype)
    n = c.numel()
    bias_relu_kernel[(triton.cdiv(n, 1024),)](c, bias, out, n, c.shape[-1], BLOCK=1024)
    return out

import numpy as np


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, a: torch.Tensor, b: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        prod = np.matmul(a.detach().cpu().numpy().astype(np.float32), b.detach().cpu().numpy().astype(np.float32))
        c = torch.from_numpy(prod).to(a.device)
        return bias_relu(c, bias, a.dtype)
