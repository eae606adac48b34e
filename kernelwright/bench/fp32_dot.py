"""Float32 products as 3xTF32, TF32 or IEEE FMAs, emulated on the CPU and judged by the verifier's float32
comparison against float64 (the `lowered` family's `fp32_dot` knob; benchmarks/fp32_dot_precision.py).

- tf32:   operands rounded to TF32 (10 explicit mantissa bits, round to nearest), one product;
- tf32x3: each operand split as big = tf32(x) and small = tf32(x - big), and big*big + big*small +
          small*big summed (the small*small term dropped), as Triton's TF32x3 does;
- ieee:   plain float32 products.
TF32 products of two TF32 numbers are exact in float32 and the sums are float32, as on tensor cores;
a GPU kernel's summation order differs, so these estimate the error's size, not the GPU kernels'.
"""
from __future__ import annotations

import torch

from kernelwright.verifier.correctness import compare, tolerance_for

# (label, M, K, N): K is the reduction; M x N outputs per case
CASES = [
    ("nn.Linear 8192 -> 8192 (level 2 GEMMs)", 256, 8192, 256),
    ("nn.Linear 4096 -> 4096", 256, 4096, 256),
    ("Conv2d 64 ch, 3x3 (K = 576)", 1024, 576, 128),
    ("Conv2d 3 ch, 3x3 (K = 27)", 1024, 27, 64),
    ("Conv3d 16 ch, 3x3x3 (K = 432)", 1024, 432, 64),
]


def tf32(x: torch.Tensor) -> torch.Tensor:
    """Round float32 to TF32's 10 explicit mantissa bits (nearest, ties away from zero)."""
    bits = x.contiguous().view(torch.int32)
    return ((bits + 0x1000) & ~0x1FFF).view(torch.float32)


def product(a: torch.Tensor, b: torch.Tensor, mode: str) -> torch.Tensor:
    if mode == "ieee":
        return a @ b
    if mode == "tf32":
        return tf32(a) @ tf32(b)
    a_big, b_big = tf32(a), tf32(b)
    a_small, b_small = tf32(a - a_big), tf32(b - b_big)
    return a_big @ b_small + a_small @ b_big + a_big @ b_big


def measure(m: int, k: int, n: int, seed: int = 0) -> dict[str, dict[str, float | bool]]:
    """Inputs as KernelBench draws them: activations randn, weights like nn.Linear / nn.Conv's init."""
    gen = torch.Generator().manual_seed(seed)
    a = torch.randn(m, k, generator=gen)
    b = (torch.rand(k, n, generator=gen) * 2 - 1) / k ** 0.5
    ref = a.double() @ b.double()
    tol = tolerance_for(torch.float32)
    rows = {}
    for mode in ("tf32", "tf32x3", "ieee"):
        found = compare(product(a, b, mode), ref, tol)
        rows[mode] = {"max_abs_err": found.max_abs_err, "rel_norm_err": found.rel_norm_err,
                      "mismatched": found.mismatched, "passed": found.passed}
    return rows
