import torch
import torch.nn as nn


class Model(nn.Module):
    """
    Triplet margin loss (Euclidean distance) of anchor, positive and negative embeddings.
    """
    def __init__(self, margin: float = 1.0):
        super(Model, self).__init__()
        self.loss_fn = nn.TripletMarginLoss(margin=margin)

    def forward(self, anchor: torch.Tensor, positive: torch.Tensor, negative: torch.Tensor) -> torch.Tensor:
        """
        Args:
            anchor, positive, negative (torch.Tensor): shape (batch_size, dim).

        Returns:
            torch.Tensor: scalar loss.
        """
        return self.loss_fn(anchor, positive, negative)


batch_size = 4096
dim = 2049
margin = 1.0


def get_inputs():
    anchor = torch.randn(batch_size, dim)
    positive = anchor + 0.5 * torch.randn(batch_size, dim)
    negative = torch.randn(batch_size, dim)
    return [anchor, positive, negative]


def get_init_inputs():
    return [margin]
