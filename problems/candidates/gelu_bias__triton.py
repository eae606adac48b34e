"""gelu(x + bias) as one flat, vectorised Triton pass.

Each program handles BLOCK contiguous elements of the flattened (ROWS, COLS) tensor; the bias
column of element i is i % COLS. The tail block is masked. Exact GELU via erf, in float32.
"""
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def gelu_bias_kernel(x_ptr, bias_ptr, out_ptr, n_elements, n_cols, BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    offs = pid.to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n_elements
    x = tl.load(x_ptr + offs, mask=mask, other=0.0)
    b = tl.load(bias_ptr + offs % n_cols, mask=mask, other=0.0)
    v = x + b
    y = 0.5 * v * (1.0 + tl.erf(v * 0.7071067811865476))  # 1/sqrt(2)
    tl.store(out_ptr + offs, y, mask=mask)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        x = x.contiguous()
        bias = bias.contiguous()
        out = torch.empty_like(x)
        n = x.numel()
        block = 2048
        grid = (triton.cdiv(n, block),)
        gelu_bias_kernel[grid](x, bias, out, n, x.shape[-1], BLOCK=block, num_warps=8)
        return out
