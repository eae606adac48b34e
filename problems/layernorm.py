"""LayerNorm over the last dimension with learned weight and bias, float32 (ROWS, COLS)."""
import torch
import torch.nn as nn
import torch.nn.functional as F

NAME = "layernorm"
DESCRIPTION = (
    "Layer normalisation of each row of a (ROWS, COLS) float32 tensor: (x - mean) / sqrt(var + eps) "
    "* weight + bias with the biased variance, eps = 1e-5; weight and bias are (COLS,) parameters "
    "named `weight` and `bias`, and the constructor takes (hidden, eps)."
)
EXTRA_SHAPES = [{"ROWS": 19, "COLS": 1003}]
LARGE_MAGNITUDE = 1000.0
SMALL_SHAPE = {"ROWS": 48, "COLS": 768}
TEMPLATE = {"kind": "layernorm"}  # offline template coder (agents/templates/)

ROWS = 4096
COLS = 4096
EPS = 1e-5


class Model(nn.Module):
    def __init__(self, hidden: int, eps: float = 1e-5):
        super().__init__()
        self.eps = eps
        # Not the identity init: a kernel that ignores weight or bias must fail.
        self.weight = nn.Parameter(1.0 + 0.1 * torch.randn(hidden))
        self.bias = nn.Parameter(0.1 * torch.randn(hidden))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.layer_norm(x, (x.shape[-1],), self.weight, self.bias, self.eps)


def get_inputs():
    return [torch.randn(ROWS, COLS) * 2.0 + 0.5]


def get_init_inputs():
    return [COLS, EPS]


def count_flops(x):
    return 8.0 * x.numel()


def count_bytes(x):
    return 2.0 * x.numel() * x.element_size() + 2 * x.shape[-1] * x.element_size()
