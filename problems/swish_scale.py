"""Scaled Swish / SiLU on bfloat16: y = scale * x * sigmoid(x), x (ROWS, COLS) bfloat16."""
import torch
import torch.nn as nn

NAME = "swish_scale"
DESCRIPTION = (
    "Compute scale * x * sigmoid(x) element-wise for a (ROWS, COLS) bfloat16 tensor; `scale` is a "
    "float given to the constructor. Compute in float32, store bfloat16."
)
EXTRA_SHAPES = [{"ROWS": 17, "COLS": 1031}]
LARGE_MAGNITUDE = 50.0
SMALL_SHAPE = {"ROWS": 32, "COLS": 500}
TEMPLATE = {"kind": "elementwise", "expr": "scale * x0 * tl.sigmoid(x0)", "scalars": ["scale"]}  # offline template coder (agents/templates/)

ROWS = 8192
COLS = 4096
SCALE = 1.702


class Model(nn.Module):
    def __init__(self, scale: float):
        super().__init__()
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (self.scale * x.float() * torch.sigmoid(x.float())).to(x.dtype)


def get_inputs():
    return [torch.randn(ROWS, COLS, dtype=torch.bfloat16)]


def get_init_inputs():
    return [SCALE]


def count_flops(x):
    return 5.0 * x.numel()


def count_bytes(x):
    return 2.0 * x.numel() * x.element_size()
