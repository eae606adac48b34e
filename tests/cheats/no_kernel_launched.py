"""Cheat for rule `no_kernel_launched` on problems/softmax.py (runs on: cpu).

Computes the right values in pure Python loops (math.exp over .tolist()) and builds the output
from the list: no kernel of its own ever runs. (CPU only: at the GPU size of 4096 x 8192 each
call would take minutes and end as a timeout, which says nothing about the rule.)
"""
import math

import torch
import torch.nn as nn
import triton
import triton.language as tl


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rows = []
        for row in x.detach().cpu().tolist():
            top = max(row)
            exps = [math.exp(v - top) for v in row]
            total = sum(exps)
            rows.append([e / total for e in exps])
        return torch.tensor(rows, dtype=x.dtype, device=x.device)
