import torch
import torch.nn as nn


class Model(nn.Module):
    """
    Batch normalisation of a 4-D input. The module is in its default (training) mode, so it
    normalises with the statistics of the batch itself.
    """
    def __init__(self, num_features: int):
        super(Model, self).__init__()
        self.bn = nn.BatchNorm2d(num_features=num_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """
        Args:
            x (torch.Tensor): shape (batch_size, features, height, width).

        Returns:
            torch.Tensor: same shape.
        """
        return self.bn(x)


batch_size = 16
features = 64
height = 127
width = 256


def get_inputs():
    x = torch.randn(batch_size, features, height, width) * 3 - 1
    return [x]


def get_init_inputs():
    return [features]
