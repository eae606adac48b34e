import torch
import torch.nn as nn


class Model(nn.Module):
    """
    Mean cross-entropy loss of logits against integer class targets.
    """
    def __init__(self):
        super(Model, self).__init__()

    def forward(self, predictions: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """
        Args:
            predictions (torch.Tensor): logits, shape (batch_size, num_classes).
            targets (torch.Tensor): int64 class indices, shape (batch_size,).

        Returns:
            torch.Tensor: scalar loss.
        """
        return torch.nn.functional.cross_entropy(predictions, targets)


batch_size = 8192
num_classes = 1001


def get_inputs():
    predictions = torch.randn(batch_size, num_classes) * 2
    targets = torch.randint(0, num_classes, (batch_size,))
    return [predictions, targets]


def get_init_inputs():
    return []
