import torch
import torch.nn as nn


class Model(nn.Module):
    """
    1-D convolution with stride, padding and dilation.
    """
    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                 padding: int = 0, dilation: int = 1, bias: bool = False):
        super(Model, self).__init__()
        self.conv1d = nn.Conv1d(in_channels, out_channels, kernel_size, stride=stride, padding=padding,
                                dilation=dilation, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """
        Args:
            x (torch.Tensor): shape (batch_size, in_channels, length).

        Returns:
            torch.Tensor: shape (batch_size, out_channels, length_out).
        """
        return self.conv1d(x)


batch_size = 32
in_channels = 64
out_channels = 128
kernel_size = 5
length = 8191
stride = 2
padding = 3
dilation = 2


def get_inputs():
    x = torch.randn(batch_size, in_channels, length)
    return [x]


def get_init_inputs():
    return [in_channels, out_channels, kernel_size, stride, padding, dilation]
