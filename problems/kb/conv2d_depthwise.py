import torch
import torch.nn as nn


class Model(nn.Module):
    """
    Depthwise 2-D convolution (one filter per channel, groups = channels), stride 2.
    """
    def __init__(self, channels: int, kernel_size: int, stride: int = 1, padding: int = 0):
        super(Model, self).__init__()
        self.conv2d = nn.Conv2d(channels, channels, kernel_size, stride=stride, padding=padding,
                                groups=channels, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """
        Args:
            x (torch.Tensor): shape (batch_size, channels, height, width).

        Returns:
            torch.Tensor: shape (batch_size, channels, height_out, width_out).
        """
        return self.conv2d(x)


batch_size = 4
channels = 96
kernel_size = 3
stride = 2
padding = 1
height = 255
width = 255


def get_inputs():
    x = torch.randn(batch_size, channels, height, width)
    return [x]


def get_init_inputs():
    return [channels, kernel_size, stride, padding]
