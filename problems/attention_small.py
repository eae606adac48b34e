"""Plain scaled dot-product attention softmax(Q K^T * D^-0.5) V in bfloat16, (B, H, S, D)."""
import torch
import torch.nn as nn

NAME = "attention_small"
DESCRIPTION = (
    "Non-causal attention out = softmax(q @ k^T * D**-0.5, dim=-1) @ v for bfloat16 q, k, v of "
    "shape (B, H, S, D); no mask, no dropout. Output bfloat16 (B, H, S, D). Accumulate in float32."
)
ATOL = {"bfloat16": 2e-2}
RTOL = {"bfloat16": 2e-2}
EXTRA_SHAPES = [{"B": 1, "H": 3, "S": 67, "D": 64}]
LARGE_MAGNITUDE = 8.0  # scores grow 64x (max ~300): a softmax without max-subtraction overflows
# v grows 8x too, so the output and its bf16 rounding of P (2**-8 relative) do: ATOL x 8 there
# (an honest kernel missed 0.02 by one element of 4M on an H100, error 0.12)
LARGE_MAGNITUDE_ATOL = {"bfloat16": 0.16}
SMALL_SHAPE = {"B": 1, "H": 2, "S": 80, "D": 64}
ATTENTION = {}  # plain attention: the offline template coder's attention family applies

B = 4
H = 16
S = 1024
D = 64


class Model(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        scores = (q @ k.transpose(-2, -1)) * (q.shape[-1] ** -0.5)
        return torch.softmax(scores.float(), dim=-1).to(q.dtype) @ v


def get_inputs():
    shape = (B, H, S, D)
    return [torch.randn(shape, dtype=torch.bfloat16) for _ in range(3)]


def get_init_inputs():
    return []


def count_flops(q, k, v):
    b, h, s, d = q.shape
    return 4.0 * b * h * s * s * d


def count_bytes(q, k, v):
    return 4.0 * q.numel() * q.element_size()
