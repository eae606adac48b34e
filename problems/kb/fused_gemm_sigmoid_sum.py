import torch
import torch.nn as nn


class Model(nn.Module):
    """
    Linear layer, sigmoid, then a sum over the features (one value per row).
    """
    def __init__(self, input_size, hidden_size):
        super(Model, self).__init__()
        self.linear = nn.Linear(input_size, hidden_size)

    def forward(self, x):
        """
        Args:
            x (torch.Tensor): shape (batch_size, input_size).

        Returns:
            torch.Tensor: shape (batch_size, 1).
        """
        x = self.linear(x)
        x = torch.sigmoid(x)
        x = torch.sum(x, dim=1, keepdim=True)
        return x


batch_size = 1024
input_size = 8192
hidden_size = 4095


def get_inputs():
    return [torch.randn(batch_size, input_size)]


def get_init_inputs():
    return [input_size, hidden_size]
