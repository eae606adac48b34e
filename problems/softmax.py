"""Row-wise softmax over the last dimension of a 2-D float32 tensor."""
import torch
import torch.nn as nn

NAME = "softmax_rows"
DESCRIPTION = "Softmax over the last dimension of a (ROWS, COLS) float32 tensor."
EXTRA_SHAPES = [{"ROWS": 127, "COLS": 1029}]
LARGE_MAGNITUDE = 100.0
SMALL_SHAPE = {"ROWS": 64, "COLS": 1000}
TEMPLATE = {"kind": "softmax"}  # offline template coder: agents/templates/rowwise/family.py

ROWS = 4096
COLS = 8192


class Model(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(x, dim=-1)


def get_inputs():
    return [torch.randn(ROWS, COLS)]


def get_init_inputs():
    return []


def count_flops(x):
    return 5.0 * x.numel()


def count_bytes(x):
    return 2.0 * x.numel() * x.element_size()
