import torch
import torch.nn as nn


class Model(nn.Module):
    """
    3-D max pooling with a cubic window, stride and padding, rounding the output size up.
    """
    def __init__(self, kernel_size: int, stride: int, padding: int = 0, ceil_mode: bool = False):
        super(Model, self).__init__()
        self.maxpool = nn.MaxPool3d(kernel_size=kernel_size, stride=stride, padding=padding, ceil_mode=ceil_mode)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """
        Args:
            x (torch.Tensor): shape (batch_size, channels, depth, height, width).

        Returns:
            torch.Tensor: shape (batch_size, channels, depth_out, height_out, width_out).
        """
        return self.maxpool(x)


batch_size = 8
channels = 32
depth = 31
height = 64
width = 63
kernel_size = 3
stride = 2
padding = 1
ceil_mode = True


def get_inputs():
    x = torch.randn(batch_size, channels, depth, height, width)
    return [x]


def get_init_inputs():
    return [kernel_size, stride, padding, ceil_mode]
