import torch
import torch.nn as nn


class Model(nn.Module):
    """
    Layer normalisation over the last three dimensions, with a learned affine transform.
    """
    def __init__(self, normalized_shape: tuple):
        super(Model, self).__init__()
        self.ln = nn.LayerNorm(normalized_shape=normalized_shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """
        Args:
            x (torch.Tensor): shape (batch_size, features, dim1, dim2).

        Returns:
            torch.Tensor: same shape.
        """
        return self.ln(x)


batch_size = 16
features = 64
dim1 = 127
dim2 = 129


def get_inputs():
    x = torch.randn(batch_size, features, dim1, dim2)
    return [x]


def get_init_inputs():
    return [(features, dim1, dim2)]
