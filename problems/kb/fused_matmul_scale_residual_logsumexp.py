import torch
import torch.nn as nn


class Model(nn.Module):
    """
    Linear layer, scaling, a residual add of the scaled result to itself, clamping, then
    log-sum-exp over the features: logsumexp(clamp(2 * s * (x W^T + b), lo, hi), dim=1).
    """
    def __init__(self, input_size, hidden_size, scale_factor, clamp_min, clamp_max):
        super(Model, self).__init__()
        self.matmul = nn.Linear(input_size, hidden_size)
        self.scale_factor = scale_factor
        self.clamp_min = clamp_min
        self.clamp_max = clamp_max

    def forward(self, x):
        x = self.matmul(x)
        x = x * self.scale_factor
        x = x + x
        x = torch.clamp(x, self.clamp_min, self.clamp_max)
        return torch.logsumexp(x, dim=1, keepdim=True)


batch_size = 1024
input_size = 4096
hidden_size = 8191
scale_factor = 2.0
clamp_min = -10.0
clamp_max = 10.0


def get_inputs():
    return [torch.randn(batch_size, input_size)]


def get_init_inputs():
    return [input_size, hidden_size, scale_factor, clamp_min, clamp_max]
