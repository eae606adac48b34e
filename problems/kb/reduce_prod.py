import torch
import torch.nn as nn


class Model(nn.Module):
    """
    Product reduction over one dimension of values close to 1.
    """
    def __init__(self, dim: int):
        super(Model, self).__init__()
        self.dim = dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """
        Args:
            x (torch.Tensor): shape (batch_size, dim1, dim2).

        Returns:
            torch.Tensor: prod over self.dim, dimension removed.
        """
        return torch.prod(x, dim=self.dim)


batch_size = 256
dim1 = 96
dim2 = 1000
reduce_dim = 1


def get_inputs():
    x = 1.0 + 0.05 * torch.randn(batch_size, dim1, dim2)
    return [x]


def get_init_inputs():
    return [reduce_dim]
