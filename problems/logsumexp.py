"""Row-wise log-sum-exp of float32 logits: y[r] = log(sum_c exp(x[r, c])), x (ROWS, COLS)."""
import torch
import torch.nn as nn

NAME = "logsumexp"
DESCRIPTION = (
    "Log-sum-exp over the last dimension of a (ROWS, COLS) float32 tensor of logits "
    "(standard deviation LOGIT_STD); output float32 of shape (ROWS,). Must stay finite for "
    "logits far beyond the exp overflow range."
)
EXTRA_SHAPES = [{"ROWS": 31, "COLS": 777}]
LARGE_MAGNITUDE = 100.0
SMALL_SHAPE = {"ROWS": 64, "COLS": 1000}
TEMPLATE = {"kind": "logsumexp"}  # offline template coder (agents/templates/)

ROWS = 4096
COLS = 8192
LOGIT_STD = 4.0


class Model(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.logsumexp(x, dim=-1)


def get_inputs():
    return [torch.randn(ROWS, COLS) * LOGIT_STD]


def get_init_inputs():
    return []


def count_flops(x):
    return 4.0 * x.numel()


def count_bytes(x):
    return 1.0 * x.numel() * x.element_size() + x.shape[0] * x.element_size()
