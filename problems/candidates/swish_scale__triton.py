"""scale * x * sigmoid(x) for bfloat16 x: one flat masked pass, math in float32.

sigmoid via exp2: 1 / (1 + 2^(-x * log2(e))), which saturates cleanly (no inf/inf) for large |x|.
"""
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def swish_scale_kernel(x_ptr, out_ptr, n_elements, scale, BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    offs = pid.to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n_elements
    x = tl.load(x_ptr + offs, mask=mask, other=0.0).to(tl.float32)
    sig = 1.0 / (1.0 + tl.exp2(-x * 1.4426950408889634))
    tl.store(out_ptr + offs, (scale * x * sig).to(out_ptr.dtype.element_ty), mask=mask)


class ModelNew(nn.Module):
    def __init__(self, scale: float):
        super().__init__()
        self.scale = float(scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous()
        out = torch.empty_like(x)
        n = x.numel()
        block = 4096
        grid = (triton.cdiv(n, block),)
        swish_scale_kernel[grid](x, out, n, self.scale, BLOCK=block, num_warps=8)
        return out
