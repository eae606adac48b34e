import torch
import torch.nn as nn


class Model(nn.Module):
    """
    Product of a diagonal matrix, given by its diagonal, with a dense matrix: diag(A) @ B
    (row i of B scaled by A[i]).
    """
    def __init__(self):
        super(Model, self).__init__()

    def forward(self, A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
        """
        Args:
            A (torch.Tensor): shape (N,).
            B (torch.Tensor): shape (N, M).

        Returns:
            torch.Tensor: shape (N, M).
        """
        return torch.diag(A) @ B


N = 4096
M = 4095


def get_inputs():
    A = torch.randn(N)
    B = torch.randn(N, M)
    return [A, B]


def get_init_inputs():
    return []
