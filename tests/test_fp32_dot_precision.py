"""kernelwright/bench/fp32_dot.py: its TF32 rounding and the three float32 products it compares."""
import torch

from kernelwright.bench import fp32_dot


def test_tf32_keeps_ten_mantissa_bits_rounding_to_nearest():
    x = torch.tensor([1 + 2**-10, 1 + 2**-12, 1 + 3 * 2**-12, -(1 + 3 * 2**-12), 3.0])
    assert fp32_dot.tf32(x).tolist() == [1 + 2**-10, 1.0, 1 + 2**-10, -(1 + 2**-10), 3.0]


def test_only_plain_tf32_misses_the_float32_tolerance_at_a_long_reduction():
    rows = fp32_dot.measure(64, 2048, 32)
    assert not rows["tf32"]["passed"] and rows["tf32x3"]["passed"] and rows["ieee"]["passed"]
    assert rows["tf32x3"]["rel_norm_err"] < 4 * rows["ieee"]["rel_norm_err"] < rows["tf32"]["rel_norm_err"] / 100
