"""LayerNorm forward, one program per row with the whole row in registers (COLS <= 16384).

Mean and biased variance from the registered row (two-pass in registers: no E[x^2] - E[x]^2
cancellation), then (x - mean) * rstd * weight + bias. Masked lanes are zeroed before the
variance so they do not contribute.
"""
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def layernorm_kernel(x_ptr, w_ptr, b_ptr, out_ptr, n_cols, stride_x, stride_out, eps, BLOCK: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    cols = tl.arange(0, BLOCK)
    mask = cols < n_cols
    x = tl.load(x_ptr + row * stride_x + cols, mask=mask, other=0.0).to(tl.float32)
    mean = tl.sum(x, axis=0) / n_cols
    xc = tl.where(mask, x - mean, 0.0)
    var = tl.sum(xc * xc, axis=0) / n_cols
    rstd = 1.0 / tl.sqrt(var + eps)
    w = tl.load(w_ptr + cols, mask=mask, other=0.0)
    b = tl.load(b_ptr + cols, mask=mask, other=0.0)
    tl.store(out_ptr + row * stride_out + cols, xc * rstd * w + b, mask=mask)


class ModelNew(nn.Module):
    def __init__(self, hidden: int, eps: float = 1e-5):
        super().__init__()
        self.eps = float(eps)
        self.weight = nn.Parameter(torch.ones(hidden))
        self.bias = nn.Parameter(torch.zeros(hidden))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous()
        rows, cols = x.shape
        out = torch.empty_like(x)
        block = triton.next_power_of_2(cols)
        if block > 16384:
            raise ValueError(f"layernorm__triton keeps a row in registers: COLS={cols} > 16384")
        num_warps = 4 if block <= 1024 else (8 if block <= 4096 else 16)
        layernorm_kernel[(rows,)](x, self.weight, self.bias, out, cols, x.stride(0), out.stride(0), self.eps,
                                  BLOCK=block, num_warps=num_warps)
        return out
