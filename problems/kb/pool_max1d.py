import torch
import torch.nn as nn


class Model(nn.Module):
    """
    1-D max pooling with stride, padding and dilation.
    """
    def __init__(self, kernel_size: int, stride: int = None, padding: int = 0, dilation: int = 1):
        super(Model, self).__init__()
        self.maxpool = nn.MaxPool1d(kernel_size=kernel_size, stride=stride, padding=padding, dilation=dilation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """
        Args:
            x (torch.Tensor): shape (batch_size, features, length).

        Returns:
            torch.Tensor: shape (batch_size, features, length_out).
        """
        return self.maxpool(x)


batch_size = 64
features = 64
length = 4095
kernel_size = 4
stride = 2
padding = 2
dilation = 3


def get_inputs():
    x = torch.randn(batch_size, features, length)
    return [x]


def get_init_inputs():
    return [kernel_size, stride, padding, dilation]
