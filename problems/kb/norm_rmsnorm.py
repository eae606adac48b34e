import torch
import torch.nn as nn


class Model(nn.Module):
    """
    RMS normalisation over the feature dimension (dim 1), written out:
    x / sqrt(mean(x ** 2, dim=1) + eps).
    """
    def __init__(self, num_features: int, eps: float = 1e-5):
        super(Model, self).__init__()
        self.num_features = num_features
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """
        Args:
            x (torch.Tensor): shape (batch_size, num_features, dim1, dim2).

        Returns:
            torch.Tensor: same shape.
        """
        rms = torch.sqrt(torch.mean(x ** 2, dim=1, keepdim=True) + self.eps)
        return x / rms


batch_size = 16
features = 64
dim1 = 128
dim2 = 255
eps = 1e-5


def get_inputs():
    x = torch.randn(batch_size, features, dim1, dim2)
    return [x]


def get_init_inputs():
    return [features, eps]
