"""The pool and `verify()`: jobs in order, failures become verdicts, the worker survives them."""
import textwrap

import pytest
from kernelwright.verifier import pool as pool_mod
from kernelwright.verifier.api import verify
from kernelwright.verifier.job import Job, resolve_options
from kernelwright.verifier.pool import VerifierPool, devices_from_spec
from kernelwright.verifier.problem import LoadError

PROBLEM = textwrap.dedent('''
    import torch
    import torch.nn as nn
    N = 37
    class Model(nn.Module):
        def forward(self, x):
            return x * 3.0
    def get_inputs():
        return [torch.randn(N)]
    def get_init_inputs():
        return []
''')
HONEST = "import torch.nn as nn\nclass ModelNew(nn.Module):\n    def forward(self, x):\n        return x + x + x\n"
WRONG = HONEST.replace("x + x + x", "x + x")
HANG = ("import torch.nn as nn\nclass ModelNew(nn.Module):\n"
        "    def forward(self, x):\n        while True:\n            pass\n")
SEGV = ("import os, signal\nimport torch.nn as nn\nclass ModelNew(nn.Module):\n"
        "    def forward(self, x):\n        os.kill(os.getpid(), signal.SIGSEGV)\n")
EXIT3 = "import os\nimport torch.nn as nn\nclass ModelNew(nn.Module):\n    def forward(self, x):\n        os._exit(3)\n"
TRITON_HANG = textwrap.dedent('''
    import torch
    import torch.nn as nn
    import triton
    import triton.language as tl

    @triton.jit
    def spin_kernel(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
        offs = tl.arange(0, BLOCK)
        i = tl.load(x_ptr) * 0.0
        while i >= 0.0:
            i = i + 1.0
        tl.store(y_ptr + offs, i, mask=offs < n)

    class ModelNew(nn.Module):
        def forward(self, x):
            y = torch.empty_like(x)
            spin_kernel[(1,)](x, y, x.numel(), BLOCK=64)
            return y
''')


@pytest.fixture(scope="module")
def pool():
    with VerifierPool(["cpu"], judge="runtime_helpers:judge") as p:
        yield p


def run(pool, candidate, **options):
    return pool.submit(PROBLEM, candidate, run_timeout_s=options.pop("run_timeout_s", 60), **options).result()


def test_honest_and_wrong_candidates_in_order(pool):
    verdicts = pool.verify_many([(PROBLEM, HONEST), (PROBLEM, WRONG), {"problem": PROBLEM, "candidate": HONEST}])
    assert [v.status for v in verdicts] == ["correct", "incorrect", "correct"]
    assert verdicts[0].message.endswith("on cpu") and verdicts[0].candidate_sha
    env = verdicts[0].environment
    assert env.device == "cpu" and env.interpreter and env.torch and env.python
    # the environment came from the worker, which is still the one that judged (not killed by its reply)
    assert [w.starts for w in pool.workers] == [1] and all(w.alive for w in pool.workers)


@pytest.mark.parametrize("candidate, status, words", [
    (HANG, "timeout", "correctness timed out"),
    (SEGV, "runtime_error", "exit code -11 (SIGSEGV)"),
    (EXIT3, "runtime_error", "exit code 3"),
])
def test_failure_costs_only_that_candidate(pool, candidate, status, words):
    verdict = run(pool, candidate, run_timeout_s=3)
    assert verdict.status == status and verdict.stage == "correctness"
    assert words in verdict.message
    assert run(pool, HONEST).status == "correct"


def test_hanging_triton_kernel_under_the_interpreter_times_out(pool):
    verdict = run(pool, TRITON_HANG, run_timeout_s=8)
    assert verdict.status == "timeout", verdict.message
    assert run(pool, HONEST).status == "correct"


def test_candidate_that_does_not_load_is_a_compile_error(pool):
    verdict = run(pool, "class ModelNew(:\n")
    assert (verdict.status, verdict.stage) == ("compile_error", "load")
    assert "syntax error" in verdict.message
    assert run(pool, "import torch\n").message.endswith("no `class ModelNew` defined")


def test_broken_problem_raises_load_error(pool):
    with pytest.raises(LoadError, match="no `get_inputs` defined"):
        pool.submit(PROBLEM.replace("def get_inputs", "def other"), HONEST)


def test_judge_bug_becomes_a_verdict_not_an_exception():
    def broken(job: Job, worker) -> None:
        raise KeyError("oops")

    with VerifierPool(["cpu"], judge=broken) as p:
        verdict = p.submit(PROBLEM, HONEST).result()
    assert verdict.status == "runtime_error" and "verifier error: KeyError" in verdict.message


def test_unknown_option_is_one_line_error():
    with pytest.raises(ValueError, match="unknown verify option 'trails'"):
        resolve_options(trails=3)


def test_devices_from_spec(monkeypatch):
    monkeypatch.setattr(pool_mod, "_gpu_count", lambda: 2)
    assert devices_from_spec("cpu") == ["cpu"]
    assert devices_from_spec("cpu*3") == ["cpu"] * 3
    assert devices_from_spec("auto") == devices_from_spec("all") == ["cuda:0", "cuda:1"]
    assert devices_from_spec("cuda") == ["cuda:0", "cuda:1"] and devices_from_spec("cuda:1,0") == ["cuda:1", "cuda:0"]
    with pytest.raises(ValueError, match="GPU 2 not visible"):
        devices_from_spec("cuda:2")
    monkeypatch.setattr(pool_mod, "_gpu_count", lambda: 0)
    assert devices_from_spec("auto") == ["cpu"]
    with pytest.raises(ValueError, match="no CUDA GPU"):
        devices_from_spec("cuda")
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        devices_from_spec("tpu")


def test_verify_api_uses_the_process_pool(monkeypatch):
    monkeypatch.setenv(pool_mod.JUDGE_ENV, "runtime_helpers:judge")
    pool_mod.shutdown_pools()
    try:
        verdict = verify(PROBLEM, HONEST, device="cpu")
        assert verdict.status == "correct" and verdict.problem == "problem"
        assert pool_mod.get_pool("cpu") is pool_mod.get_pool("cpu")
    finally:
        pool_mod.shutdown_pools()
