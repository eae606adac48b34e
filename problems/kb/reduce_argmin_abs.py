import torch
import torch.nn as nn


class Model(nn.Module):
    """
    Index of the entry closest to zero along dimension 1: argmin(|x|, dim=1).
    """
    def __init__(self):
        super(Model, self).__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """
        Args:
            x (torch.Tensor): shape (batch_size, dim1, dim2).

        Returns:
            torch.Tensor: int64, shape (batch_size, dim2).
        """
        return torch.argmin(torch.abs(x), dim=1)


batch_size = 64
dim1 = 333
dim2 = 1024


def get_inputs():
    x = torch.randn(batch_size, dim1, dim2)
    return [x]


def get_init_inputs():
    return []
