import torch
import torch.nn as nn


class Model(nn.Module):
    """
    Cumulative sum that only counts the elements where a boolean mask is set.
    """
    def __init__(self, dim: int):
        super(Model, self).__init__()
        self.dim = dim

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """
        Args:
            x (torch.Tensor): shape (batch_size, length).
            mask (torch.Tensor): bool, same shape as x.

        Returns:
            torch.Tensor: cumsum(x * mask) over self.dim.
        """
        return torch.cumsum(x * mask, dim=self.dim)


batch_size = 2048
length = 4095
scan_dim = 1


def get_inputs():
    x = torch.randn(batch_size, length)
    mask = torch.randint(0, 2, (batch_size, length)).bool()
    return [x, mask]


def get_init_inputs():
    return [scan_dim]
