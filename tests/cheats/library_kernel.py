"""Cheat for rule `library_kernel` on problems/matmul_bias_relu.py (runs on: gpu).

Writes the easy part (bias + ReLU epilogue) in Triton and hands the matmul -- all of the work --
to cuBLAS through cupy.matmul on views of the tensors' memory. No torch op is involved, so only
kernel-level evidence (a cuBLAS GEMM in the profile) shows the library doing the work.
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

import cupy


def _view(t: torch.Tensor) -> "cupy.ndarray":
    t = t.contiguous()
    mem = cupy.cuda.UnownedMemory(t.data_ptr(), t.numel() * t.element_size(), t, t.device.index)
    return cupy.ndarray(tuple(t.shape), dtype=cupy.float16, memptr=cupy.cuda.MemoryPointer(mem, 0))


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, a: torch.Tensor, b: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        c = torch.empty(a.shape[0], b.shape[1], device=a.device, dtype=torch.float16)
        with cupy.cuda.ExternalStream(torch.cuda.current_stream(a.device).cuda_stream):
            cupy.matmul(_view(a), _view(b), out=_view(c))
        return bias_relu(c, bias, a.dtype)
