import torch
import torch.nn as nn


class Model(nn.Module):
    """
    Range plus mean over one dimension: max(x, dim) - min(x, dim) + mean(x, dim).
    """
    def __init__(self, dim: int):
        super(Model, self).__init__()
        self.dim = dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """
        Args:
            x (torch.Tensor): shape (batch_size, dim1, dim2).

        Returns:
            torch.Tensor: shape (batch_size, dim2) for dim=1.
        """
        hi = torch.max(x, dim=self.dim)[0]
        lo = torch.min(x, dim=self.dim)[0]
        return hi - lo + torch.mean(x, dim=self.dim)


batch_size = 32
dim1 = 2047
dim2 = 255
reduce_dim = 1


def get_inputs():
    x = torch.randn(batch_size, dim1, dim2)
    return [x]


def get_init_inputs():
    return [reduce_dim]
