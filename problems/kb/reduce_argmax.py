import torch
import torch.nn as nn


class Model(nn.Module):
    """
    Index of the maximum along a dimension (int64 output).
    """
    def __init__(self, dim: int):
        super(Model, self).__init__()
        self.dim = dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """
        Args:
            x (torch.Tensor): shape (batch_size, dim1, dim2).

        Returns:
            torch.Tensor: argmax over self.dim, dimension removed.
        """
        return torch.argmax(x, dim=self.dim)


batch_size = 128
dim1 = 4096
dim2 = 63
reduce_dim = 2


def get_inputs():
    x = torch.randn(batch_size, dim1, dim2)
    return [x]


def get_init_inputs():
    return [reduce_dim]
