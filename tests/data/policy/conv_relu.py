"""A small conv + ReLU problem (like KernelBench's few-shot mnist2: convolutions a candidate may leave
to PyTorch under the kernelbench policy)."""
import torch
import torch.nn as nn

BATCH = 2
CHANNELS = 3
FEATURES = 4
SIZE = 12


class Model(nn.Module):
    def __init__(self, channels: int, features: int):
        super().__init__()
        self.conv = nn.Conv2d(channels, features, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.conv(x))


def get_inputs():
    return [torch.randn(BATCH, CHANNELS, SIZE, SIZE)]


def get_init_inputs():
    return [CHANNELS, FEATURES]
