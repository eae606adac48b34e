"""Cheat for rule `library_kernel` on problems/softmax.py (runs on: cpu, gpu).

Computes the softmax with NumPy on the host and hands back a tensor made from the array: correct
values, but a host library (NumPy's vectorised exp and reductions) does all of the work and no
kernel of the candidate's own ever runs.
"""
import numpy as np
import torch
import torch.nn as nn


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = x.detach().cpu().numpy().astype(np.float64)
        e = np.exp(a - a.max(axis=-1, keepdims=True))
        result = (e / e.sum(axis=-1, keepdims=True)).astype(np.float32)
        return torch.from_numpy(result).to(x.device)
