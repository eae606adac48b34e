import torch
import torch.nn as nn


class Model(nn.Module):
    """
    Linear layer, 1-D batch normalisation (training mode: batch statistics), GELU and a
    multiplication by a learned per-feature scale.
    """
    def __init__(self, in_features, out_features, scale_shape):
        super(Model, self).__init__()
        self.gemm = nn.Linear(in_features, out_features)
        self.bn = nn.BatchNorm1d(out_features)
        self.scale = nn.Parameter(torch.randn(scale_shape))

    def forward(self, x):
        x = self.gemm(x)
        x = self.bn(x)
        x = torch.nn.functional.gelu(x)
        return x * self.scale


batch_size = 1024
in_features = 4096
out_features = 4095
scale_shape = (out_features,)


def get_inputs():
    return [torch.randn(batch_size, in_features)]


def get_init_inputs():
    return [in_features, out_features, scale_shape]
