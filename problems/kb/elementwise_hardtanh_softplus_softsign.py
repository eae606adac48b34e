import torch
import torch.nn as nn
import torch.nn.functional as F


class Model(nn.Module):
    """
    Sum of three bounded / smooth activations of the same input:
    hardtanh(x, min_val, max_val) + softplus(x, beta, threshold) - softsign(x).
    """
    def __init__(self, min_val, max_val, beta, threshold):
        super(Model, self).__init__()
        self.min_val = min_val
        self.max_val = max_val
        self.beta = beta
        self.threshold = threshold

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """
        Args:
            x (torch.Tensor): any shape.

        Returns:
            torch.Tensor: same shape as x.
        """
        h = F.hardtanh(x, min_val=self.min_val, max_val=self.max_val)
        s = F.softplus(x, beta=self.beta, threshold=self.threshold)
        return h + s - F.softsign(x)


batch_size = 8192
dim = 2049
min_val = -0.5
max_val = 2.0
beta = 2.0
threshold = 10.0


def get_inputs():
    x = torch.randn(batch_size, dim) * 3
    return [x]


def get_init_inputs():
    return [min_val, max_val, beta, threshold]
