"""Every verification ends by its stated deadline, builds included (issue 16, item 6).

KernelBench's few-shot `model_new_ex_add.py` (load_inline, extension `elementwise_add`, module
globals `source` and `cpp_src`) got no verdict within 210 s. The candidates here have its shape,
with a C++ (not CUDA) source so that they build on the CPU.
"""
from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest
from kernelwright.verifier import backends
from kernelwright.verifier.budget import Budget
from kernelwright.verifier.gate import DeviceGate, GateTimeout
from kernelwright.verifier.job import Job
from kernelwright.verifier.judge import judge
from kernelwright.verifier.options import VerifyOptions
from kernelwright.verifier.problem import load_problem
from kernelwright.verifier.sandbox.worker import Worker

PROBLEM = """import torch
class Model(torch.nn.Module):
    def forward(self, a, b):
        return a + b
def get_inputs():
    return [torch.randn(1, 128), torch.randn(1, 128)]
def get_init_inputs():
    return []
"""
SOURCE = """
#include <torch/extension.h>
torch::Tensor elementwise_add_cpu(torch::Tensor a, torch::Tensor b) {
    auto out = torch::empty_like(a);
    auto pa = a.data_ptr<float>(); auto pb = b.data_ptr<float>(); auto po = out.data_ptr<float>();
    for (int64_t i = 0; i < a.numel(); ++i) po[i] = pa[i] + pb[i];
    return out;
}
"""
CPP_SRC = "torch::Tensor elementwise_add_cpu(torch::Tensor a, torch::Tensor b);"
BUILD = {"name": "elementwise_add", "cpp_sources": [CPP_SRC, SOURCE], "functions": ["elementwise_add_cpu"],
         "verbose": True, "extra_cflags": [""], "extra_ldflags": [""]}


def candidate(source_var: str = "source", cpp_var: str = "cpp_src") -> str:
    """KernelBench's few-shot shape; the other variable names give its `prompts/` twin."""
    return f"""import torch
import torch.nn as nn
from torch.utils.cpp_extension import load_inline

{source_var} = {SOURCE!r}
{cpp_var} = {CPP_SRC!r}

elementwise_add = load_inline(name="elementwise_add", cpp_sources=[{cpp_var}, {source_var}],
                              functions=["elementwise_add_cpu"], verbose=True, extra_cflags=[""], extra_ldflags=[""])


class ModelNew(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.elementwise_add = elementwise_add

    def forward(self, a, b):
        return self.elementwise_add.elementwise_add_cpu(a, b)
"""


def verify(worker: Worker, source: str, **options) -> object:
    job = Job(load_problem(PROBLEM), source, "<test candidate>", VerifyOptions(timing=False, **options), "cpu")
    return judge(job, worker)


needs_compiler = pytest.mark.skipif(shutil.which("c++") is None or shutil.which("ninja") is None,
                                    reason="needs a C++ compiler and ninja")


def test_budget_cuts_a_call_and_its_compile_allowance_to_what_is_left():
    now = [100.0]
    budget = Budget(30.0, clock=lambda: now[0])
    assert budget.cap(10.0, 5.0) == (10.0, 5.0, False)
    now[0] = 120.0  # 10 s left
    assert budget.cap(8.0, 5.0) == (8.0, 2.0, True)
    assert budget.cap(60.0, 120.0) == (10.0, 0.0, True)
    now[0] = 131.0
    assert budget.expired and budget.left() == 0.0


def test_a_wait_for_the_gpu_ends_at_its_timeout_and_frees_the_queue():
    gate, holding, release = DeviceGate(), threading.Event(), threading.Event()

    def timing_job():
        with gate.exclusive():
            holding.set()
            release.wait(30)

    thread = threading.Thread(target=timing_job)
    thread.start()
    holding.wait(30)
    with pytest.raises(GateTimeout, match="not free to share"):
        with gate.shared(timeout_s=0.05):
            pass
    release.set()
    thread.join(30)
    with gate.shared():  # sharing: a timed-out exclusive request must not hold shared entries back
        with pytest.raises(GateTimeout, match="not free to hold alone"):
            with gate.exclusive(timeout_s=0.05):
                pass
        with gate.shared(timeout_s=0.05):
            pass


@pytest.fixture
def hanging_compiler(tmp_path, monkeypatch):
    """A `c++` first on PATH that answers version queries and hangs on every compile (-c)."""
    stub = tmp_path / "bin"
    stub.mkdir()
    (stub / "c++").write_text(f'#!/bin/sh\nfor a in "$@"; do [ "$a" = "-c" ] && exec sleep 3600; done\n'
                              f'exec {shutil.which("c++")} "$@"\n')
    (stub / "c++").chmod(0o755)
    monkeypatch.setenv("PATH", f"{stub}:{shutil.which('c++').rsplit('/', 1)[0]}:/usr/bin:/bin")
    monkeypatch.delenv("CXX", raising=False)
    worker = Worker("cpu", name="budget-hang")
    yield worker
    worker.close()


@needs_compiler
def test_a_build_that_never_ends_is_a_timeout_at_load_by_the_verification_deadline(hanging_compiler):
    verdict = verify(hanging_compiler, candidate(), verify_timeout_s=30, load_timeout_s=90)
    assert verdict.status == "timeout" and verdict.stage == "load", verdict.summary()
    assert "verification deadline of 30 s reached" in verdict.message
    assert verdict.elapsed_s < 90  # the deadline, not the load call's own limit, ended it


@needs_compiler
def test_a_build_killed_midway_leaves_no_lock_that_hangs_the_next_candidate_with_the_same_sources():
    worker = Worker("cpu", name="budget-lock")
    try:
        worker.call("kernelwright.verifier.sandbox.candidate_side:ping", None, timeout_s=120, stage="load")
        name = f"elementwise_add_{backends.build_key(('elementwise_add',), BUILD)}"  # sources and flags, not names
        build_dir = Path(worker.cache_dir) / "torch_extensions" / "kw_inline" / name
        build_dir.mkdir(parents=True)
        (build_dir / "lock").touch()  # what torch leaves when the worker is killed during the build
        first = verify(worker, candidate(), load_timeout_s=90)
        assert first.status == "correct", first.summary() + first.logs
        twin = verify(worker, candidate("elementwise_add_source", "elementwise_add_cpp_source"), load_timeout_s=90)
        assert twin.status == "correct", twin.summary() + twin.logs  # same sources, same build: reused
    finally:
        worker.close()


def test_verify_help_states_the_verification_deadline():
    from typer.testing import CliRunner

    from kernelwright.cli import app

    result = CliRunner().invoke(app, ["verify", "--help"])
    assert result.exit_code == 0 and "--verify-timeout" in result.stdout


@pytest.mark.parametrize("value", ["0", "-5", "nan"])
def test_a_bad_verification_deadline_exits_2_with_one_line(value):
    from typer.testing import CliRunner

    from kernelwright.cli import app

    root = Path(__file__).resolve().parents[1]
    files = [str(root / "problems" / "softmax.py"), str(root / "problems" / "candidates" / "softmax__triton.py")]
    result = CliRunner().invoke(app, ["verify", *files, "--verify-timeout", value])
    assert result.exit_code == 2, result.output
    assert "--verify-timeout" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_bad_verification_deadline_in_python_is_a_value_error():
    from kernelwright.verifier.job import resolve_options

    with pytest.raises(ValueError, match="verify_timeout_s"):
        resolve_options(verify_timeout_s=0)
