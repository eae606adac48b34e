import torch
import torch.nn as nn


class Model(nn.Module):
    """
    Inclusive prefix sum along a dimension.
    """
    def __init__(self, dim: int):
        super(Model, self).__init__()
        self.dim = dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """
        Args:
            x (torch.Tensor): shape (batch_size, length).

        Returns:
            torch.Tensor: cumsum over self.dim, same shape.
        """
        return torch.cumsum(x, dim=self.dim)


batch_size = 2048
length = 8191
scan_dim = 1


def get_inputs():
    x = torch.randn(batch_size, length)
    return [x]


def get_init_inputs():
    return [scan_dim]
