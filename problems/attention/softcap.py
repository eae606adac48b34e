"""Attention with tanh soft-capping of the scores: SOFTCAP * tanh(score / SOFTCAP), SOFTCAP = 30."""
import math

import torch
import torch.nn as nn

NAME = "attention_softcap"
DESCRIPTION = (
    'Attention with tanh soft-capping of the scores: SOFTCAP * tanh(score / SOFTCAP), SOFTCAP = 30.'
    " Inputs q, k, v: (B, H, S, D) bf16; output softmax(q k^T / sqrt(D) + score_mod, mask_mod) v, same shape."
)
ATOL = {"bfloat16": 2e-2, "float16": 5e-3, "float32": 2e-3}
RTOL = {"bfloat16": 2e-2, "float16": 5e-3, "float32": 2e-3}
# gradients (backward runs): a bf16 flash-attention backward rounds P and dS to bf16 before its products,
# as FlexAttention's does; errors up to 0.042 were seen on gradients of magnitude ~3 (CPU interpreter)
GRAD_ATOL = {"bfloat16": 6e-2, "float16": 1e-2, "float32": 2e-3}
GRAD_RTOL = {"bfloat16": 6e-2, "float16": 1e-2, "float32": 2e-3}
LARGE_MAGNITUDE = 4.0
SMALL_SHAPE = {"B": 1, "H": 2, "S": 67, "D": 64}
EXTRA_SHAPES = [{"B": 1, "H": 3, "S": 129}, {"B": 2, "H": 1, "S": 100, "D": 128}]
ATTENTION = {}

B = 4
H = 16
S = 4096
D = 128
DTYPE = torch.bfloat16
SOFTCAP = 30.0


def score_mod(score, b, h, q_idx, kv_idx):
    return SOFTCAP * torch.tanh(score / SOFTCAP)


class Model(nn.Module):
    """Reference: materialises the (B, H, S, S) scores in float32, then softmax and the value product."""

    def __init__(self):
        super().__init__()

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        batch, heads, seq, dim = q.shape
        scores = torch.matmul(q.float(), k.float().transpose(-2, -1)) / math.sqrt(dim)
        b, h, q_idx, kv_idx = _index_grids(batch, heads, seq, q.device)
        scores = score_mod(scores, b, h, q_idx, kv_idx)
        return torch.matmul(torch.softmax(scores, dim=-1), v.float()).to(q.dtype)


def _index_grids(batch, heads, seq, device):
    b = torch.arange(batch, device=device).view(-1, 1, 1, 1)
    h = torch.arange(heads, device=device).view(1, -1, 1, 1)
    q_idx = torch.arange(seq, device=device).view(1, 1, -1, 1)
    kv_idx = torch.arange(seq, device=device).view(1, 1, 1, -1)
    return b, h, q_idx, kv_idx


def get_inputs():
    seq = S
    return [torch.randn(B, H, seq, D, dtype=DTYPE) for _ in range(3)]


def get_init_inputs():
    return []


def unmasked_pairs(seq: int, device="cpu") -> int:
    """Number of (query, key) pairs the mask keeps, per (batch, head)."""
    return seq * seq


def count_flops(q, k, v):
    """Two matmuls over unmasked pairs only: 4 * B * H * D * (#unmasked pairs); masked work is not counted."""
    batch, heads, seq, dim = q.shape
    return 4.0 * batch * heads * dim * unmasked_pairs(seq, q.device)


def count_bytes(q, k, v):
    """q, k, v read once and the output written once."""
    return 4.0 * q.numel() * q.element_size()
