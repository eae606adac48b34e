import torch
import torch.nn as nn


class Model(nn.Module):
    """
    LogSoftmax over a middle dimension of a 3-D input.
    """
    def __init__(self, dim: int = 1):
        super(Model, self).__init__()
        self.dim = dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """
        Args:
            x (torch.Tensor): shape (batch_size, classes, positions).

        Returns:
            torch.Tensor: log_softmax over self.dim, same shape.
        """
        return torch.log_softmax(x, dim=self.dim)


batch_size = 64
classes = 1000
positions = 255
softmax_dim = 1


def get_inputs():
    x = torch.randn(batch_size, classes, positions) * 3
    return [x]


def get_init_inputs():
    return [softmax_dim]
