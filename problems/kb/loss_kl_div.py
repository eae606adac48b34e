import torch
import torch.nn as nn


class Model(nn.Module):
    """
    Kullback-Leibler divergence between two distributions given as probabilities,
    batch-mean reduction: kl_div(log(predictions), targets).
    """
    def __init__(self):
        super(Model, self).__init__()

    def forward(self, predictions: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """
        Args:
            predictions (torch.Tensor): rows sum to 1, shape (batch_size, dim).
            targets (torch.Tensor): rows sum to 1, shape (batch_size, dim).

        Returns:
            torch.Tensor: scalar loss.
        """
        return torch.nn.functional.kl_div(torch.log(predictions), targets, reduction="batchmean")


batch_size = 2048
dim = 8191


def get_inputs():
    predictions = torch.randn(batch_size, dim).softmax(dim=-1)
    targets = torch.randn(batch_size, dim).softmax(dim=-1)
    return [predictions, targets]


def get_init_inputs():
    return []
