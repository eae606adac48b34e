import torch
import torch.nn as nn


class Model(nn.Module):
    """
    Instance normalisation (per sample and channel over the spatial dims), no affine transform.
    """
    def __init__(self, num_features: int):
        super(Model, self).__init__()
        self.inorm = nn.InstanceNorm2d(num_features=num_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """
        Args:
            x (torch.Tensor): shape (batch_size, features, height, width).

        Returns:
            torch.Tensor: same shape.
        """
        return self.inorm(x)


batch_size = 16
features = 64
height = 255
width = 129


def get_inputs():
    x = torch.randn(batch_size, features, height, width) * 2 + 1
    return [x]


def get_init_inputs():
    return [features]
