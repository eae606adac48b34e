"""Cheat for rule `library_kernel` on problems/matmul_bias_relu.py (runs on: gpu).

Writes the bias + ReLU epilogue in Triton and computes the product with torch.mm, i.e. a cuBLAS
GEMM on the GPU. (On a CPU the same call would be the reference's own op; this cheat is about
the library kernel, so it is checked on the GPU only.)
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


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, a: torch.Tensor, b: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        return bias_relu(torch.mm(a, b), bias, a.dtype)
