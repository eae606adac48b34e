import torch
import torch.nn as nn


class Model(nn.Module):
    """
    Cosine-similarity loss: mean over rows of 1 - cos(predictions[i], targets[i]).
    """
    def __init__(self):
        super(Model, self).__init__()

    def forward(self, predictions: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """
        Args:
            predictions (torch.Tensor): shape (batch_size, dim).
            targets (torch.Tensor): shape (batch_size, dim).

        Returns:
            torch.Tensor: scalar loss.
        """
        cosine = torch.nn.functional.cosine_similarity(predictions, targets, dim=1)
        return torch.mean(1 - cosine)


batch_size = 4096
dim = 4095


def get_inputs():
    predictions = torch.randn(batch_size, dim)
    targets = torch.randn(batch_size, dim)
    return [predictions, targets]


def get_init_inputs():
    return []
