import torch
import torch.nn as nn


class Model(nn.Module):
    """
    Two inputs with broadcasting: leaky_relu(x) * selu(y), then ELU with a given alpha.
    y has shape (1, channels, 1, width) and broadcasts over the batch and height of x.
    """
    def __init__(self, negative_slope, alpha):
        super(Model, self).__init__()
        self.negative_slope = negative_slope
        self.alpha = alpha

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """
        Args:
            x (torch.Tensor): shape (batch_size, channels, height, width).
            y (torch.Tensor): shape (1, channels, 1, width).

        Returns:
            torch.Tensor: elu(leaky_relu(x) * selu(y), alpha), shape of x.
        """
        a = torch.nn.functional.leaky_relu(x, negative_slope=self.negative_slope)
        b = torch.selu(y)
        return torch.nn.functional.elu(a * b, alpha=self.alpha)


batch_size = 16
channels = 32
height = 129
width = 255
negative_slope = 0.01
alpha = 1.3


def get_inputs():
    x = torch.randn(batch_size, channels, height, width)
    y = torch.randn(1, channels, 1, width)
    return [x, y]


def get_init_inputs():
    return [negative_slope, alpha]
