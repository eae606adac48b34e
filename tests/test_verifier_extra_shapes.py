"""Extra shapes (issue 16, item 4): only free dims are perturbed; an explicit refusal of a perturbed
shape is `specialized` (not a failure); silent wrong output there stays `incorrect`."""
from __future__ import annotations

from kernelwright.verifier import inputs, shrink
from kernelwright.verifier.problem import load_problem
from kernelwright.verifier.rules import ADVISORY_FLAGS

import kernelwright

ATTENTION = '''
import torch, torch.nn as nn
batch_size = 16
seq_len = 64
n_head = 4
head_dim = 32

class Model(nn.Module):
    def forward(self, q, k, v):
        return torch.softmax(q @ k.transpose(-1, -2), -1) @ v

def get_inputs():
    return [torch.randn(batch_size, n_head, seq_len, head_dim) for _ in range(3)]

def get_init_inputs():
    return []
'''

CONV = '''
import torch, torch.nn as nn
batch_size = 16
in_channels = 32
out_channels = 64
kernel_size = 3
height = 40
width = 36

class Model(nn.Module):
    def __init__(self, cin, cout, k):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k)
    def forward(self, x):
        return self.conv(x)

def get_inputs():
    return [torch.randn(batch_size, in_channels, height, width)]

def get_init_inputs():
    return [in_channels, out_channels, kernel_size]
'''

ROWS_PROBLEM = '''
import torch, torch.nn as nn
ROWS = 64
HIDDEN = 32

class Model(nn.Module):
    def __init__(self, rows, hidden):
        super().__init__()
    def forward(self, x):
        return 2.0 * x

def get_inputs():
    return [torch.randn(ROWS, HIDDEN)]

def get_init_inputs():
    return [ROWS, HIDDEN]
'''

KERNEL = '''
import torch, torch.nn as nn, triton, triton.language as tl

@triton.jit
def double(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(y_ptr + offs, 2.0 * tl.load(x_ptr + offs, mask=offs < n), mask=offs < n)

class ModelNew(nn.Module):
    def __init__(self, rows, hidden):
        super().__init__()
{init}
    def forward(self, x):
{forward}
        y = torch.zeros_like(x)
        n = {count}
        double[(triton.cdiv(n, 1024),)](x, y, n, BLOCK=1024)
        return y
'''


def candidate(init: str = "        pass", forward: str = "        pass", count: str = "x.numel()") -> str:
    return KERNEL.format(init=init, forward=forward, count=count)


def test_perturbation_keeps_head_dim_and_changes_batch_and_sequence():
    problem = load_problem(ATTENTION)
    changed = inputs.perturbed_overrides(problem, {})
    assert changed is not None and set(changed) == {"batch_size", "seq_len"}, changed
    assert all(value % 2 == 1 for value in changed.values())


def test_perturbation_keeps_channels_and_kernel_size_and_changes_spatial_dims():
    changed = inputs.perturbed_overrides(load_problem(CONV), {})
    assert changed is not None and set(changed) == {"batch_size", "height", "width"}, changed


def test_declared_extra_shapes_may_change_a_kept_dim():
    problem = load_problem(ATTENTION + "\nEXTRA_SHAPES = [{'head_dim': 48}]\n")
    assert inputs.extra_shape_overrides(problem, small=False) == [{"head_dim": 48}]


def test_perturbable_reuses_the_shrink_classification():
    assert not shrink.perturbable("kernel_size", 11, set())  # a fixed name for the shrink too
    assert not shrink.perturbable("N", 4, set())  # small constants define the computation
    assert not shrink.perturbable("N", 1024, {"N"})  # FIXED_DIMS
    assert not shrink.perturbable("hidden_size", 1024, set())
    assert shrink.perturbable("N", 1024, set()) and shrink.perturbable("seq_len", 1024, set())


def test_explicit_refusal_at_run_is_specialized_not_a_failure():
    refuses = candidate(forward="        if x.shape[0] % 64:\n            raise ValueError('rows must "
                                "be a multiple of 64')")
    verdict = kernelwright.verify(ROWS_PROBLEM, refuses, device="cpu")
    assert verdict.status == "correct" and verdict.flags == ["specialized"], verdict.summary()
    assert set(verdict.flags) <= set(ADVISORY_FLAGS)
    extra = [t for t in verdict.trials if t.kind == "extra_shape"]
    assert (extra and extra[0].skipped and "rows must be a multiple of 64" in extra[0].note
            and "ROWS=65" in extra[0].note)


def test_explicit_refusal_at_construction_is_specialized_and_later_trials_still_run():
    refuses = candidate(init="        if rows != 64:\n            raise NotImplementedError('tuned for 64 rows')")
    verdict = kernelwright.verify(ROWS_PROBLEM, refuses, device="cpu")
    assert verdict.status == "correct" and verdict.flags == ["specialized"], verdict.summary()
    kinds = [t.kind for t in verdict.trials]
    assert kinds.index("extra_shape") < kinds.index("shifted")  # the base model was loaded again after it
    assert all(t.passed for t in verdict.trials if t.kind != "extra_shape")


def test_silent_wrong_output_at_a_perturbed_shape_stays_incorrect():
    skips_tail = candidate(count="x.numel() // 2048 * 2048")  # whole 64-row blocks only
    verdict = kernelwright.verify(ROWS_PROBLEM, skips_tail, device="cpu")
    assert verdict.status == "incorrect" and verdict.rule == "extra_shape", verdict.summary()
    assert "specialized" not in verdict.flags
