import torch
import torch.nn as nn


class Model(nn.Module):
    """
    relu(x) clamped from above, times a scalar argument, minus the input's sigmoid:
    clamp(relu(x), max=cap) * alpha - sigmoid(x), on a 3-D tensor.
    """
    def __init__(self, cap):
        super(Model, self).__init__()
        self.cap = cap

    def forward(self, x: torch.Tensor, alpha: float) -> torch.Tensor:
        """
        Args:
            x (torch.Tensor): shape (batch_size, seq_len, hidden).
            alpha (float): scalar multiplier.

        Returns:
            torch.Tensor: same shape as x.
        """
        return torch.clamp(torch.relu(x), max=self.cap) * alpha - torch.sigmoid(x)


batch_size = 32
seq_len = 511
hidden = 1024
cap = 6.0


def get_inputs():
    x = torch.randn(batch_size, seq_len, hidden) * 4
    return [x, 0.25]


def get_init_inputs():
    return [cap]
