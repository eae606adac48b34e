"""The verifier's memory at KernelBench sizes (issue 18): checks walk big tensors piece by piece."""
from __future__ import annotations

import pytest
import torch
from kernelwright.verifier import chunks, correctness, evidence, inputs
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

TOL = correctness.Tolerance(1e-4, 1e-4, 1e-5)


class LargestAllocation(TorchDispatchMode):
    """Records the largest storage (bytes) that any op creates, views of its arguments excluded."""

    def __init__(self) -> None:
        super().__init__()
        self.largest = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        result = func(*args, **(kwargs or {}))
        given = {t.untyped_storage().data_ptr() for t in tree_leaves((args, kwargs)) if isinstance(t, torch.Tensor)}
        for t in tree_leaves(result):
            if isinstance(t, torch.Tensor) and t.untyped_storage().data_ptr() not in given:
                self.largest = max(self.largest, t.untyped_storage().nbytes())
        return result


def whole_tensor_figures(out: torch.Tensor, ref: torch.Tensor) -> tuple[int, float, float, float]:
    """mismatched, max abs, max rel and relative-norm error of finite data in one whole-tensor pass."""
    a, b = out.double(), ref.double()
    diff = (a - b).abs()
    over = int((diff > TOL.atol + TOL.rtol * b.abs()).sum())
    return over, float(diff.max()), float((diff / b.abs().clamp_min(1e-30)).max()), float(
        torch.linalg.vector_norm(a - b) / torch.linalg.vector_norm(b))


def test_compare_in_pieces_gives_the_whole_tensor_figures(monkeypatch):
    monkeypatch.setattr(chunks, "CHUNK_ELEMENTS", 7)
    torch.manual_seed(0)
    ref = torch.randn(37, 53, dtype=torch.float64).t()  # strided: pieces are views over rows
    out = (ref + 1e-5 * torch.randn_like(ref)).float()
    out[11, 12] += 1.0
    found = correctness.compare(out, ref, TOL)
    mismatched, max_abs, max_rel, rel_norm = whole_tensor_figures(out, ref)
    assert found.rules == ["values_mismatch", "rel_norm"]
    assert found.mismatched == mismatched == 1
    assert found.max_abs_err == pytest.approx(max_abs, rel=1e-12)
    assert found.max_rel_err == pytest.approx(max_rel, rel=1e-12)
    assert found.rel_norm_err == pytest.approx(rel_norm, rel=1e-9)


def test_compare_in_pieces_counts_nan_inf_in_every_piece(monkeypatch):
    monkeypatch.setattr(chunks, "CHUNK_ELEMENTS", 5)
    ref = torch.linspace(1, 2, 40, dtype=torch.float64).reshape(4, 10)
    out = ref.float().clone()
    out[0, 1], out[3, 9] = float("nan"), float("inf")  # first and last piece
    ref[2, 2] = float("nan")
    out[2, 2] = float("nan")  # a NaN reproduced where the reference has one: fine
    found = correctness.compare(out, ref, TOL)
    assert found.rules[0] == "nan_inf" and found.notes[0].startswith("2 NaN/Inf")
    assert found.mismatched == 2


def test_compare_never_makes_a_full_size_float64_copy(monkeypatch):
    monkeypatch.setattr(chunks, "CHUNK_ELEMENTS", 4096)
    out = torch.rand(1 << 18)
    ref = out.double()
    with LargestAllocation() as seen:
        assert correctness.compare(out, ref, TOL).passed
    assert seen.largest <= 4096 * 8  # one float64 piece, not 2 MiB per temporary
    with LargestAllocation() as seen:
        assert correctness.compare(out.reshape(512, 512).t(), ref.reshape(512, 512).t(), TOL).passed
    assert seen.largest <= 4096 * 8


def test_repeat_input_fingerprint_and_poison_checks_stay_within_a_piece(monkeypatch):
    monkeypatch.setattr(chunks, "CHUNK_ELEMENTS", 4096)
    x = torch.rand(1 << 20)
    y = x.clone()
    y[-1] = float("nan")
    x_nan = x.clone()
    x_nan[-1] = float("nan")
    with LargestAllocation() as seen:
        assert correctness.same_within(x, x.clone(), TOL) is True
        assert correctness.exactly_equal(x_nan, y) is True
        assert correctness.exactly_equal(x, y) is False
        evidence.fingerprint([{"tensor": x}])
        assert inputs.poisoned_count(x) == 0
    assert seen.largest <= x.numel() * x.element_size()  # the clones above, nothing bigger
    clones = x.numel() * x.element_size()
    with LargestAllocation() as seen:
        correctness.same_within(x, y, TOL)
        correctness.exactly_equal(x, y)
        evidence.fingerprint([{"tensor": x}])
        inputs.poisoned_count(x)
    assert seen.largest <= max(4096 * 8, 65536 * 4) < clones  # a piece, or the fingerprint's 65536-element sample


def test_pieces_cover_every_element_once():
    for shape in [(), (10,), (3, 7), (2, 3, 50), (1, 1000), (5, 1, 3)]:
        t = torch.arange(int(torch.tensor(shape).prod()) if shape else 1).reshape(shape)
        seen = torch.cat([t[index].reshape(-1) for index in chunks.pieces(tuple(shape), 16)])
        assert sorted(seen.tolist()) == list(range(t.numel()))
        assert all(t[index].numel() <= 16 for index in chunks.pieces(tuple(shape), 16)) or not shape
