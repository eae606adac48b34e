import torch
import torch.nn as nn


class Model(nn.Module):
    """
    3-D convolution, HardSwish, then the mean over the spatial dimensions (one value per
    sample and channel).
    """
    def __init__(self, in_channels, out_channels, kernel_size):
        super(Model, self).__init__()
        self.conv = nn.Conv3d(in_channels, out_channels, kernel_size)

    def forward(self, x):
        x = self.conv(x)
        x = torch.nn.functional.hardswish(x)
        return x.mean(dim=[2, 3, 4])


batch_size = 16
in_channels = 4
out_channels = 32
depth, height, width = 16, 64, 64
kernel_size = 3


def get_inputs():
    return [torch.randn(batch_size, in_channels, depth, height, width)]


def get_init_inputs():
    return [in_channels, out_channels, kernel_size]
