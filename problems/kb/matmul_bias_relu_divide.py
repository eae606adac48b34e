import torch
import torch.nn as nn


class Model(nn.Module):
    """
    Matrix multiplication with an explicit bias parameter, ReLU, and division by a constant:
    relu(x @ W + bias) / divisor.
    """
    def __init__(self, in_features, out_features, divisor):
        super(Model, self).__init__()
        self.weight = nn.Parameter(torch.randn(in_features, out_features) * 0.02)
        self.bias = nn.Parameter(torch.randn(out_features))
        self.divisor = divisor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """
        Args:
            x (torch.Tensor): shape (batch_size, in_features).

        Returns:
            torch.Tensor: shape (batch_size, out_features).
        """
        return torch.relu(torch.matmul(x, self.weight) + self.bias) / self.divisor


batch_size = 1024
in_features = 8192
out_features = 2047
divisor = 2.0


def get_inputs():
    x = torch.randn(batch_size, in_features)
    return [x]


def get_init_inputs():
    return [in_features, out_features, divisor]
