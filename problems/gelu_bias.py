"""Bias add fused with exact (erf) GELU: y = gelu(x + bias), x (ROWS, COLS) float32, bias (COLS,)."""
import torch
import torch.nn as nn
import torch.nn.functional as F

NAME = "gelu_bias"
DESCRIPTION = (
    "Add a per-column bias to a (ROWS, COLS) float32 tensor and apply the exact GELU "
    "(0.5 * v * (1 + erf(v / sqrt(2)))), as after a linear layer. Output float32, same shape."
)
EXTRA_SHAPES = [{"ROWS": 33, "COLS": 1001}]
LARGE_MAGNITUDE = 30.0
SMALL_SHAPE = {"ROWS": 32, "COLS": 512}
TEMPLATE = {"kind": "elementwise", "expr": "0.5 * (x0 + x1) * (1.0 + tl.erf((x0 + x1) * 0.7071067811865476))"}  # offline template coder (agents/templates/)

ROWS = 4096
COLS = 4096


class Model(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        return F.gelu(x + bias)


def get_inputs():
    return [torch.randn(ROWS, COLS), torch.randn(COLS)]


def get_init_inputs():
    return []


def count_flops(x, bias):
    return 10.0 * x.numel()  # add, scale, erf (counted as a few flops), mul, mul-add


def count_bytes(x, bias):
    return 2.0 * x.numel() * x.element_size() + bias.numel() * bias.element_size()
