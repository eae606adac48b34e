import torch
import torch.nn as nn


class Model(nn.Module):
    """
    Mean hinge loss for labels in {-1, +1}: mean(clamp(1 - predictions * targets, min=0)).
    """
    def __init__(self):
        super(Model, self).__init__()

    def forward(self, predictions: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """
        Args:
            predictions (torch.Tensor): shape (batch_size, dim).
            targets (torch.Tensor): +1 / -1, shape (batch_size, 1).

        Returns:
            torch.Tensor: scalar loss.
        """
        return torch.mean(torch.clamp(1 - predictions * targets, min=0))


batch_size = 8192
dim = 2047


def get_inputs():
    predictions = torch.randn(batch_size, dim)
    targets = torch.randint(0, 2, (batch_size, 1)).float() * 2 - 1
    return [predictions, targets]


def get_init_inputs():
    return []
