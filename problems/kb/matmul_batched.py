import torch
import torch.nn as nn


class Model(nn.Module):
    """
    Batched matrix multiplication: C[b] = A[b] @ B[b].
    """
    def __init__(self):
        super(Model, self).__init__()

    def forward(self, A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
        """
        Args:
            A (torch.Tensor): shape (batch_size, m, k).
            B (torch.Tensor): shape (batch_size, k, n).

        Returns:
            torch.Tensor: shape (batch_size, m, n).
        """
        return torch.bmm(A, B)


batch_size = 128
m = 128
k = 255
n = 512


def get_inputs():
    A = torch.randn(batch_size, m, k)
    B = torch.randn(batch_size, k, n)
    return [A, B]


def get_init_inputs():
    return []
