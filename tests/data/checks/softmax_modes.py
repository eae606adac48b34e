"""Row softmax in Triton whose MODE switch injects one bug at a time (for the verifier's tests).

MODE 0 honest; 1 adds 1e-3 (values); 2 computes in float16 (rel-norm); 3 writes a NaN;
4 skips max-subtraction (large magnitude); 5 fixed 1024-wide block (ignores tails past 1024);
6 also overwrites the input. The test file sets MODE by prepending `MODE = n` to this source.
"""
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def softmax_kernel(x_ptr, y_ptr, n_cols, stride_x, stride_y, BLOCK: tl.constexpr, MODE: tl.constexpr):
    row = tl.program_id(0)
    offs = tl.arange(0, BLOCK)
    mask = offs < n_cols
    x = tl.load(x_ptr + row * stride_x + offs, mask=mask, other=-float("inf"))
    if MODE == 2:
        x = x.to(tl.float16)
    if MODE != 4:
        x = x - tl.max(x, axis=0)
    num = tl.exp(x.to(tl.float32))
    if MODE == 2:
        num = num.to(tl.float16)
    y = (num / tl.sum(num, axis=0)).to(tl.float32)
    if MODE == 1:
        y = y + 1e-3
    if MODE == 3:
        y = tl.where(offs == 0, float("nan"), y)
    tl.store(y_ptr + row * stride_y + offs, y, mask=mask)
    if MODE == 6:
        tl.store(x_ptr + row * stride_x + offs, y, mask=mask)


def launch(x: torch.Tensor, y: torch.Tensor, mode: int) -> torch.Tensor:
    rows, cols = x.shape
    block = 1024 if mode == 5 else triton.next_power_of_2(cols)
    softmax_kernel[(rows,)](x, y, cols, x.stride(0), y.stride(0), BLOCK=block, MODE=mode)
    return y


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return launch(x, torch.empty_like(x), MODE)
