"""RMSNorm of bfloat16 activations with a float32 weight: y = x / rms(x) * weight, cast to bf16."""
import torch
import torch.nn as nn

NAME = "rmsnorm"
DESCRIPTION = (
    "RMS normalisation of each row of a (ROWS, COLS) bfloat16 tensor: in float32, "
    "x * rsqrt(mean(x^2) + eps) * weight, then cast to bfloat16; eps = 1e-6; weight is a float32 "
    "(COLS,) parameter named `weight`; the constructor takes (hidden, eps)."
)
EXTRA_SHAPES = [{"ROWS": 21, "COLS": 999}]
LARGE_MAGNITUDE = 100.0
SMALL_SHAPE = {"ROWS": 48, "COLS": 640}
TEMPLATE = {"kind": "rmsnorm"}  # offline template coder (agents/templates/)

ROWS = 8192
COLS = 4096
EPS = 1e-6


class Model(nn.Module):
    def __init__(self, hidden: int, eps: float = 1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(1.0 + 0.1 * torch.randn(hidden))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        xf = x.float()
        inv_rms = torch.rsqrt(xf.pow(2).mean(dim=-1, keepdim=True) + self.eps)
        return (xf * inv_rms * self.weight.float()).to(x.dtype)


def get_inputs():
    return [torch.randn(ROWS, COLS, dtype=torch.bfloat16)]


def get_init_inputs():
    return [COLS, EPS]


def count_flops(x):
    return 4.0 * x.numel()


def count_bytes(x):
    return 2.0 * x.numel() * x.element_size() + 4 * x.shape[-1]
