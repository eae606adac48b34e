import torch
import torch.nn as nn


class Model(nn.Module):
    """
    Group normalisation with a learned per-channel affine transform.
    """
    def __init__(self, num_features: int, num_groups: int):
        super(Model, self).__init__()
        self.gn = nn.GroupNorm(num_groups=num_groups, num_channels=num_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """
        Args:
            x (torch.Tensor): shape (batch_size, features, height, width).

        Returns:
            torch.Tensor: same shape.
        """
        return self.gn(x)


batch_size = 16
features = 64
num_groups = 8
height = 127
width = 255


def get_inputs():
    x = torch.randn(batch_size, features, height, width)
    return [x]


def get_init_inputs():
    return [features, num_groups]
