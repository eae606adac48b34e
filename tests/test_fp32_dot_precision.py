"""benchmarks/fp32_dot_precision.py: its TF32 rounding and the three products it compares."""
import importlib.util
from pathlib import Path

import torch

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "fp32_dot_precision.py"


def _bench():
    spec = importlib.util.spec_from_file_location("kw_fp32_dot_precision", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_tf32_keeps_ten_mantissa_bits_rounding_to_nearest():
    bench = _bench()
    x = torch.tensor([1 + 2**-10, 1 + 2**-12, 1 + 3 * 2**-12, -(1 + 3 * 2**-12), 3.0])
    assert bench.tf32(x).tolist() == [1 + 2**-10, 1.0, 1 + 2**-10, -(1 + 2**-10), 3.0]


def test_only_plain_tf32_misses_the_float32_tolerance_at_a_long_reduction():
    rows = _bench().measure(64, 2048, 32)
    assert not rows["tf32"]["passed"] and rows["tf32x3"]["passed"] and rows["ieee"]["passed"]
    assert rows["tf32x3"]["rel_norm_err"] < 4 * rows["ieee"]["rel_norm_err"] < rows["tf32"]["rel_norm_err"] / 100
