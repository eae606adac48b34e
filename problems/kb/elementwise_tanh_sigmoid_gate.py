import torch
import torch.nn as nn


class Model(nn.Module):
    """
    Gated unit with a broadcast residual: tanh(a) * sigmoid(b) + c, where c is a per-column
    vector broadcast over the rows.
    """
    def __init__(self):
        super(Model, self).__init__()

    def forward(self, a: torch.Tensor, b: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        """
        Args:
            a (torch.Tensor): shape (rows, cols).
            b (torch.Tensor): shape (rows, cols).
            c (torch.Tensor): shape (cols,).

        Returns:
            torch.Tensor: shape (rows, cols).
        """
        return torch.tanh(a) * torch.sigmoid(b) + c


ROWS = 3000
COLS = 3001


def get_inputs():
    a = torch.randn(ROWS, COLS)
    b = torch.randn(ROWS, COLS)
    c = torch.randn(COLS)
    return [a, b, c]


def get_init_inputs():
    return []
