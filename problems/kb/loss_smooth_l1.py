import torch
import torch.nn as nn


class Model(nn.Module):
    """
    Huber (smooth L1) loss with a transition point beta, mean reduction.
    """
    def __init__(self, beta: float = 1.0):
        super(Model, self).__init__()
        self.beta = beta

    def forward(self, predictions: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """
        Args:
            predictions (torch.Tensor): shape (batch_size, dim).
            targets (torch.Tensor): shape (batch_size, dim).

        Returns:
            torch.Tensor: scalar loss.
        """
        return torch.nn.functional.smooth_l1_loss(predictions, targets, beta=self.beta)


batch_size = 4096
dim = 4097
beta = 0.5


def get_inputs():
    predictions = torch.randn(batch_size, dim)
    targets = torch.randn(batch_size, dim)
    return [predictions, targets]


def get_init_inputs():
    return [beta]
