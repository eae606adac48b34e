import torch
import torch.nn as nn


class Model(nn.Module):
    """
    Matrix-vector product: C = A @ B with B a single column.
    """
    def __init__(self):
        super(Model, self).__init__()

    def forward(self, A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
        """
        Args:
            A (torch.Tensor): shape (M, K).
            B (torch.Tensor): shape (K, 1).

        Returns:
            torch.Tensor: shape (M, 1).
        """
        return torch.matmul(A, B)


M = 4096
K = 8191


def get_inputs():
    A = torch.randn(M, K)
    B = torch.randn(K, 1)
    return [A, B]


def get_init_inputs():
    return []
