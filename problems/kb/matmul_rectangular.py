import torch
import torch.nn as nn


class Model(nn.Module):
    """
    Rectangular matrix multiplication with ragged sizes: C = A @ B.
    """
    def __init__(self):
        super(Model, self).__init__()

    def forward(self, A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
        """
        Args:
            A (torch.Tensor): shape (M, K).
            B (torch.Tensor): shape (K, N).

        Returns:
            torch.Tensor: shape (M, N).
        """
        return torch.matmul(A, B)


M = 1023
K = 4097
N = 2049


def get_inputs():
    A = torch.randn(M, K)
    B = torch.randn(K, N)
    return [A, B]


def get_init_inputs():
    return []
