import torch
import torch.nn as nn


class Model(nn.Module):
    """
    Grouped 2-D convolution with an asymmetric kernel, stride, padding and dilation per axis.
    """
    def __init__(self, in_channels: int, out_channels: int, kernel_size: tuple, stride: tuple = (1, 1),
                 padding: tuple = (0, 0), dilation: tuple = (1, 1), groups: int = 1):
        super(Model, self).__init__()
        self.conv2d = nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride, padding=padding,
                                dilation=dilation, groups=groups, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """
        Args:
            x (torch.Tensor): shape (batch_size, in_channels, height, width).

        Returns:
            torch.Tensor: shape (batch_size, out_channels, height_out, width_out).
        """
        return self.conv2d(x)


batch_size = 8
in_channels = 64
out_channels = 128
kernel_size = (3, 5)
stride = (2, 1)
padding = (1, 2)
dilation = (2, 1)
groups = 4
height = 256
width = 129


def get_inputs():
    x = torch.randn(batch_size, in_channels, height, width)
    return [x]


def get_init_inputs():
    return [in_channels, out_channels, kernel_size, stride, padding, dilation, groups]
