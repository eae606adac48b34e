import torch
import torch.nn as nn


class Model(nn.Module):
    """
    3-D convolution with a cubic kernel, stride 2 and padding 1.
    """
    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                 padding: int = 0):
        super(Model, self).__init__()
        self.conv3d = nn.Conv3d(in_channels, out_channels, kernel_size, stride=stride, padding=padding)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """
        Args:
            x (torch.Tensor): shape (batch_size, in_channels, depth, height, width).

        Returns:
            torch.Tensor: shape (batch_size, out_channels, depth_out, height_out, width_out).
        """
        return self.conv3d(x)


batch_size = 8
in_channels = 16
out_channels = 32
kernel_size = 3
stride = 2
padding = 1
depth = 32
height = 63
width = 64


def get_inputs():
    x = torch.randn(batch_size, in_channels, depth, height, width)
    return [x]


def get_init_inputs():
    return [in_channels, out_channels, kernel_size, stride, padding]
