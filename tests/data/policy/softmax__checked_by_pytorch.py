"""The reverse of a timing cheat: its correctness calls are answered by PyTorch (with a token launch
of its own kernel, which the kernelbench policy asks for), its timed calls by its own kernel, which
softmaxes only the first rows. Under strict `reference_ops` stops it; under kernelbench the checked
timed calls (`timed_output`) do."""
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


HONEST_CALLS = 10


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()
        self.calls = [0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls[0] += 1
        x = x.contiguous()
        out = torch.empty_like(x)
        softmax_kernel[(1,)](x, out, x.shape[1], BLOCK=triton.next_power_of_2(x.shape[1]))
        if self.calls[0] <= HONEST_CALLS:
            return torch.softmax(x, dim=-1)
        return out
