import torch
import torch.nn as nn


class Model(nn.Module):
    """
    2-D max pooling, 3x3 window, stride 2, padding 1.
    """
    def __init__(self, kernel_size: int, stride: int, padding: int):
        super(Model, self).__init__()
        self.maxpool = nn.MaxPool2d(kernel_size=kernel_size, stride=stride, padding=padding)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """
        Args:
            x (torch.Tensor): shape (batch_size, channels, height, width).

        Returns:
            torch.Tensor: shape (batch_size, channels, height_out, width_out).
        """
        return self.maxpool(x)


batch_size = 8
channels = 64
height = 255
width = 256
kernel_size = 3
stride = 2
padding = 1


def get_inputs():
    x = torch.randn(batch_size, channels, height, width)
    return [x]


def get_init_inputs():
    return [kernel_size, stride, padding]
