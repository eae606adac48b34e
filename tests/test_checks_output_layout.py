"""Output layout: an output must have the reference's strides (issue 16, item 2)."""
from __future__ import annotations

from pathlib import Path

import torch
from kernelwright.verifier.correctness import layout_mismatch

import kernelwright

ROOT = Path(__file__).resolve().parents[1]


def test_transposed_view_of_a_contiguous_reference_is_a_mismatch():
    ref = torch.zeros(4, 6)
    out = torch.zeros(6, 4).t()
    assert layout_mismatch(list(out.stride()), ref) is not None
    assert layout_mismatch(list(ref.stride()), ref) is None


def test_size_one_dims_and_non_dense_references_set_no_layout():
    assert layout_mismatch([1, 1], torch.zeros(5, 1)) is None  # (5, 1): stride of the size-1 dim is free
    expanded = torch.zeros(3, 1).expand(3, 4)
    assert layout_mismatch([4, 1], expanded) is None
    channels_last = torch.zeros(2, 3, 4, 5).to(memory_format=torch.channels_last)
    assert layout_mismatch(list(torch.zeros(2, 3, 4, 5).stride()), channels_last) is not None


def test_transposed_output_is_incorrect_under_output_layout():
    verdict = kernelwright.verify(ROOT / "problems" / "softmax.py", ROOT / "tests" / "cheats" / "output_layout.py",
                                  device="cpu", extra_shapes=False, large_magnitude=False)
    assert verdict.status == "incorrect" and verdict.rule == "output_layout", verdict.summary()
    assert "strides" in verdict.message and "reference" in verdict.message
    assert all(t.max_abs_err is not None and t.max_abs_err < 1e-5 for t in verdict.trials)  # values were right
