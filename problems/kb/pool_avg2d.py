import torch
import torch.nn as nn


class Model(nn.Module):
    """
    2-D average pooling with a 4x4 window, stride 3 and padding 1 (zero padding counted).
    """
    def __init__(self, kernel_size: int, stride: int, padding: int):
        super(Model, self).__init__()
        self.avgpool = nn.AvgPool2d(kernel_size=kernel_size, stride=stride, padding=padding)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """
        Args:
            x (torch.Tensor): shape (batch_size, channels, height, width).

        Returns:
            torch.Tensor: shape (batch_size, channels, height_out, width_out).
        """
        return self.avgpool(x)


batch_size = 8
channels = 64
height = 257
width = 255
kernel_size = 4
stride = 3
padding = 1


def get_inputs():
    x = torch.randn(batch_size, channels, height, width)
    return [x]


def get_init_inputs():
    return [kernel_size, stride, padding]
