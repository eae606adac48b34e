"""Deadlines (issue 16, item 7): derived from the reference's measured time with a floor, a compile
allowance that ends when a call's first kernel launch returns, and the options that set them."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from kernelwright.verifier import deadlines
from kernelwright.verifier.options import VerifyOptions
from kernelwright.verifier.sandbox.worker import Worker, WorkerError
from typer.testing import CliRunner

import kernelwright
from kernelwright.cli import app

ROOT = Path(__file__).resolve().parents[1]


def test_deadlines_follow_the_reference_above_the_floor():
    fast = deadlines.derive(VerifyOptions(), 0.001, "cuda")
    assert (fast.run_s, fast.compile_s) == (10.0, 120.0)
    slow = deadlines.derive(VerifyOptions(), 0.05, "cuda")
    assert slow.run_s == 50.0 and slow.timing_s == 180.0  # 1000 x 50 ms; timing capped at timing_timeout_s
    cpu = deadlines.derive(VerifyOptions(deadline_floor_s=3.0, deadline_factor=10.0), 0.01, "cpu")
    assert (cpu.run_s, cpu.compile_s) == (3.0, 0.0)  # the interpreter compiles nothing
    assert deadlines.derive(VerifyOptions(run_timeout_s=20.0), 1.0, "cuda").run_s == 20.0


def test_reference_time_is_measured_and_cached():
    problem = kernelwright.load_problem(ROOT / "problems" / "softmax.py")
    first = deadlines.reference_seconds(problem, {"ROWS": 64, "COLS": 1000}, "cpu")
    assert 0.0 < first < 5.0
    assert deadlines.reference_seconds(problem, {"ROWS": 64, "COLS": 1000}, "cpu") == first


@pytest.fixture(scope="module")
def worker():
    w = Worker("cpu")
    yield w
    w.close()


def test_a_slow_compile_is_allowed_until_the_first_launch_returns(worker):
    assert worker.call("deadline_helpers:compile_then_answer", 2.5, timeout_s=1.0, compile_s=30.0,
                       stage="correctness") == "done"


def test_a_hang_after_the_launch_is_cut_at_the_call_deadline(worker):
    with pytest.raises(WorkerError) as caught:
        worker.call("deadline_helpers:launch_then_hang", None, timeout_s=1.5, compile_s=600.0, stage="correctness")
    assert caught.value.kind == "timeout" and "of its last kernel launch" in caught.value.reason


HANG = '''
import time
import torch, torch.nn as nn, triton, triton.language as tl

@triton.jit
def softmax_kernel(x_ptr, out_ptr, n_cols, BLOCK: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    cols = tl.arange(0, BLOCK)
    mask = cols < n_cols
    x = tl.load(x_ptr + row * n_cols + cols, mask=mask, other=-float("inf"))
    e = tl.exp(x - tl.max(x, axis=0))
    tl.store(out_ptr + row * n_cols + cols, e / tl.sum(e, axis=0), mask=mask)

class ModelNew(nn.Module):
    def forward(self, x):
        out = torch.empty_like(x)
        softmax_kernel[(x.shape[0],)](x, out, x.shape[1], BLOCK=triton.next_power_of_2(x.shape[1]))
        if x.shape[0] != 64:
            time.sleep(3600)  # hangs at the extra shape only
        return out
'''


def test_a_hung_candidate_times_out_at_the_derived_deadline():
    # a tiny factor leaves the floor in charge: the reference's own time on a loaded machine must not move it
    verdict = kernelwright.verify(ROOT / "problems" / "softmax.py", HANG, device="cpu", deadline_floor_s=4.0,
                                  deadline_factor=0.001, timing=False)
    assert verdict.status == "timeout" and verdict.stage == "correctness", verdict.summary()
    assert "within 8 s" in verdict.message, verdict.message  # 2 runs x the 4 s floor, not the old fixed 120 s
    assert all(t.passed for t in verdict.trials if t.kind == "random")


def test_verify_help_documents_the_deadline_options():
    result = CliRunner().invoke(app, ["verify", "--help"])
    assert result.exit_code == 0
    for flag in ("--deadline-floor", "--deadline-factor", "--compile-timeout"):
        assert flag in result.stdout


@pytest.mark.parametrize("flag, value", [("--deadline-floor", "0"), ("--deadline-factor", "-2"),
                                         ("--compile-timeout", "-1")])
def test_bad_deadline_options_exit_2_with_one_line(flag, value):
    files = [str(ROOT / "problems" / "softmax.py"), str(ROOT / "problems" / "candidates" / "softmax__triton.py")]
    result = CliRunner().invoke(app, ["verify", *files, flag, value])
    assert result.exit_code == 2, result.output
    assert flag in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_evidence_deadline_is_seconds_and_never_longer_than_the_derived_one():
    derived = deadlines.derive(VerifyOptions(), 0.02, "cpu")  # 1000 x 20 ms = 20 s: the 60 s CPU floor rules
    evidence = deadlines.for_evidence(derived)
    assert derived.run_s == 60.0 and evidence.run_s == 5.0  # max(5 s, 50 x 20 ms = 1 s)
    assert deadlines.for_evidence(deadlines.derive(VerifyOptions(), 0.2, "cpu")).run_s == 10.0  # 50 x 0.2 s
    short = deadlines.derive(VerifyOptions(deadline_floor_s=2.0, deadline_factor=1.0), 0.001, "cpu")
    assert deadlines.for_evidence(short).run_s == 2.0  # never longer than the derived deadline
    assert evidence.timing_s == derived.timing_s and evidence.reference_s == derived.reference_s


FLAGGED_HANG = '''
import time
import torch
import torch.nn as nn


class ModelNew(nn.Module):
    def forward(self, x):
        rows = [torch.softmax(row, dim=-1) for row in x]  # PyTorch does the work: reference_ops, statically
        time.sleep(3600)
        return torch.stack(rows)
'''


def test_a_statically_decided_candidate_that_hangs_is_rejected_by_its_static_rule():
    """Its one trial only gathers evidence: it runs under the evidence deadline (seconds, not the
    60 s CPU floor), and the hang ends in the static rule's verdict, not a timeout."""
    verdict = kernelwright.verify(ROOT / "problems" / "softmax.py", FLAGGED_HANG, device="cpu", timing=False)
    assert verdict.status == "rejected" and verdict.rule == "reference_ops", verdict.summary()
    assert verdict.stage == "static", verdict.summary()
    cut = re.search(r"correctness timed out: no answer within (\d+) s", verdict.logs)
    assert cut, verdict.logs
    # 2 runs x max(5 s, 50 x the reference), here 10 s unless the machine is very slow; never the 2 x 60 s
    # of the CPU floor, which would need a reference slower than 1.2 s
    assert int(cut.group(1)) < 120, verdict.logs
