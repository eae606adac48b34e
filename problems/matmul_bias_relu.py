"""relu(a @ b + bias) in float16 with float32 accumulation: a (M, K), b (K, N), bias (N,)."""
import torch
import torch.nn as nn

NAME = "matmul_bias_relu"
DESCRIPTION = (
    "Compute relu(a @ b + bias) for float16 a (M, K), b (K, N) and bias (N,); accumulate in "
    "float32 and store float16 (M, N). b is row-major (K, N), not transposed."
)
# float16 output of a K=4096 dot product (|out| ~ 64): fp32 accumulation then one fp16 rounding
# gives at most half an ulp (4.9e-4 relative). rtol 2e-3 leaves room for accumulation order;
# atol covers outputs near zero after the bias. fp16 accumulation of 4096 terms fails this.
ATOL = {"float16": 1e-2}
RTOL = {"float16": 2e-3}
EXTRA_SHAPES = [{"M": 67, "N": 45, "K": 83}]
LARGE_MAGNITUDE = 4.0  # keeps |out| ~ 16 * 64 * 4 well inside the float16 range
SMALL_SHAPE = {"M": 64, "N": 48, "K": 96}

M = 4096
N = 4096
K = 4096


class Model(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, a: torch.Tensor, b: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        return torch.relu(a @ b + bias)


def get_inputs():
    return [
        torch.randn(M, K, dtype=torch.float16),
        torch.randn(K, N, dtype=torch.float16),
        torch.randn(N, dtype=torch.float16),
    ]


def get_init_inputs():
    return []


def count_flops(a, b, bias):
    return 2.0 * a.shape[0] * a.shape[1] * b.shape[1]


def count_bytes(a, b, bias):
    out = a.shape[0] * b.shape[1]
    return (a.numel() + b.numel() + bias.numel() + out) * a.element_size()
