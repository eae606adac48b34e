import torch
import torch.nn as nn


class Model(nn.Module):
    """
    Softmax over the feature dimension of a 2-D input.
    """
    def __init__(self):
        super(Model, self).__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """
        Args:
            x (torch.Tensor): shape (batch_size, num_features).

        Returns:
            torch.Tensor: softmax(x, dim=1), same shape.
        """
        return torch.softmax(x, dim=1)


batch_size = 1024
num_features = 16383


def get_inputs():
    x = torch.randn(batch_size, num_features) * 5
    return [x]


def get_init_inputs():
    return []
