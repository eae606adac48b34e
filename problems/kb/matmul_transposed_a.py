import torch
import torch.nn as nn


class Model(nn.Module):
    """
    Matrix multiplication with the first operand transposed: C = A.T @ B.
    """
    def __init__(self):
        super(Model, self).__init__()

    def forward(self, A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
        """
        Args:
            A (torch.Tensor): shape (K, M).
            B (torch.Tensor): shape (K, N).

        Returns:
            torch.Tensor: shape (M, N).
        """
        return torch.matmul(A.T, B)


M = 1024
K = 4096
N = 2047


def get_inputs():
    A = torch.randn(K, M)
    B = torch.randn(K, N)
    return [A, B]


def get_init_inputs():
    return []
