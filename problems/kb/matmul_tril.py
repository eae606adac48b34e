import torch
import torch.nn as nn


class Model(nn.Module):
    """
    Product of two lower-triangular matrices, keeping the lower triangle: tril(A @ B).
    """
    def __init__(self):
        super(Model, self).__init__()

    def forward(self, A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
        """
        Args:
            A (torch.Tensor): lower triangular, shape (N, N).
            B (torch.Tensor): lower triangular, shape (N, N).

        Returns:
            torch.Tensor: shape (N, N), lower triangular.
        """
        return torch.tril(torch.matmul(A, B))


N = 2047


def get_inputs():
    A = torch.tril(torch.randn(N, N))
    B = torch.tril(torch.randn(N, N))
    return [A, B]


def get_init_inputs():
    return []
