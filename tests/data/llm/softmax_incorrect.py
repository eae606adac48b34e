"""Row softmax in Triton without subtracting the row maximum: overflows on large inputs."""
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def softmax_kernel(out_ptr, x_ptr, n_cols, stride_x, stride_out, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    offs = tl.arange(0, BLOCK)
    mask = offs < n_cols
    x = tl.load(x_ptr + row * stride_x + offs, mask=mask, other=-float("inf"))
    num = tl.exp(x)  # no max-subtraction: exp overflows to inf for large x
    den = tl.sum(num, axis=0)
    tl.store(out_ptr + row * stride_out + offs, num / den, mask=mask)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous()
        rows, cols = x.shape
        out = torch.empty_like(x)
        softmax_kernel[(rows,)](out, x, cols, x.stride(0), out.stride(0), BLOCK=triton.next_power_of_2(cols))
        return out
