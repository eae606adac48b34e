import torch
import torch.nn as nn


class Model(nn.Module):
    """
    Linear layer (with bias) followed by GELU, a scaling factor and a residual connection:
    x + scaling_factor * gelu(x @ W^T + b).
    """
    def __init__(self, features, scaling_factor):
        super(Model, self).__init__()
        self.linear = nn.Linear(features, features)
        self.scaling_factor = scaling_factor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """
        Args:
            x (torch.Tensor): shape (batch_size, features).

        Returns:
            torch.Tensor: shape (batch_size, features).
        """
        y = torch.nn.functional.gelu(self.linear(x))
        return x + self.scaling_factor * y


batch_size = 2048
features = 4096
scaling_factor = 0.5


def get_inputs():
    x = torch.randn(batch_size, features)
    return [x]


def get_init_inputs():
    return [features, scaling_factor]
