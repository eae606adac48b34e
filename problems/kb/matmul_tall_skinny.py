import torch
import torch.nn as nn


class Model(nn.Module):
    """
    Tall-and-skinny matrix times a small matrix: a long (M, K) panel with small K.
    """
    def __init__(self):
        super(Model, self).__init__()

    def forward(self, A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
        """
        Args:
            A (torch.Tensor): shape (M, K), M >> K.
            B (torch.Tensor): shape (K, N).

        Returns:
            torch.Tensor: shape (M, N).
        """
        return torch.matmul(A, B)


M = 32769
K = 32
N = 512


def get_inputs():
    A = torch.randn(M, K)
    B = torch.randn(K, N)
    return [A, B]


def get_init_inputs():
    return []
