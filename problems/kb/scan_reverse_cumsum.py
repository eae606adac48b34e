import torch
import torch.nn as nn


class Model(nn.Module):
    """
    Reverse (suffix) cumulative sum along a dimension: out[i] = sum_{j >= i} x[j].
    """
    def __init__(self, dim: int):
        super(Model, self).__init__()
        self.dim = dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """
        Args:
            x (torch.Tensor): shape (batch_size, length).

        Returns:
            torch.Tensor: same shape.
        """
        return torch.cumsum(x.flip(self.dim), dim=self.dim).flip(self.dim)


batch_size = 1024
length = 16385
scan_dim = 1


def get_inputs():
    x = torch.randn(batch_size, length)
    return [x]


def get_init_inputs():
    return [scan_dim]
