import torch
import torch.nn as nn


class Model(nn.Module):
    """
    L1 normalisation of each row: x / sum(|x|, dim=1).
    """
    def __init__(self):
        super(Model, self).__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """
        Args:
            x (torch.Tensor): shape (batch_size, dim).

        Returns:
            torch.Tensor: same shape.
        """
        return x / torch.sum(torch.abs(x), dim=1, keepdim=True)


batch_size = 2048
dim = 8193


def get_inputs():
    x = torch.randn(batch_size, dim)
    return [x]


def get_init_inputs():
    return []
