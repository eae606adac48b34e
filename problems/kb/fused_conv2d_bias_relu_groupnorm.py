import torch
import torch.nn as nn


class Model(nn.Module):
    """
    2-D convolution, then an added bias parameter, ReLU and group normalisation.
    """
    def __init__(self, in_channels, out_channels, kernel_size, bias_shape, num_groups):
        super(Model, self).__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size)
        self.bias = nn.Parameter(torch.randn(bias_shape) * 0.02)
        self.group_norm = nn.GroupNorm(num_groups, out_channels)

    def forward(self, x):
        x = self.conv(x)
        x = x + self.bias
        x = torch.relu(x)
        x = self.group_norm(x)
        return x


batch_size = 32
in_channels = 16
out_channels = 64
height = width = 128
kernel_size = 3
num_groups = 8
bias_shape = (out_channels, 1, 1)


def get_inputs():
    return [torch.randn(batch_size, in_channels, height, width)]


def get_init_inputs():
    return [in_channels, out_channels, kernel_size, bias_shape, num_groups]
