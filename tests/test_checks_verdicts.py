"""The judge on the CPU (Triton interpreter): honest kernels pass, each injected fault names its rule."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch
from kernelwright.verifier.job import Job
from kernelwright.verifier.judge import judge
from kernelwright.verifier.options import VerifyOptions
from kernelwright.verifier.problem import load_problem
from kernelwright.verifier.sandbox.worker import Worker

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "checks"
MODES = (DATA / "softmax_modes.py").read_text()
HONEST = (DATA / "softmax_ok.py").read_text()
KERNEL_HEAD = MODES.split("class ModelNew")[0]


@pytest.fixture(scope="module")
def worker():
    w = Worker("cpu")
    yield w
    w.close()


@pytest.fixture(scope="module")
def softmax():
    return load_problem(ROOT / "problems" / "softmax.py")


def verify(problem, source: str, worker, **options):
    return judge(Job(problem, source, "<test candidate>", VerifyOptions(**options), "cpu"), worker)


def with_forward(body: str, extra: str = "") -> str:
    """The mode kernel's module with a custom ModelNew.forward body (8-space indented lines)."""
    return (f"MODE = 0\n{KERNEL_HEAD}{extra}\nclass ModelNew(nn.Module):\n"
            f"    def forward(self, x):\n{body}\n")


def test_honest_triton_softmax_is_correct(softmax, worker):
    verdict = verify(softmax, HONEST, worker)
    assert verdict.status == "correct", verdict.summary()
    assert verdict.flags == []
    kinds = [t.kind for t in verdict.trials]
    assert kinds.count("random") >= 5 and "extra_shape" in kinds and "large_magnitude" in kinds
    assert all(t.passed and t.rel_norm_err < 1e-6 for t in verdict.trials)
    assert verdict.timing is not None and verdict.timing_meaningful is False and verdict.forward_timing is None
    assert verdict.speedups == {}


@pytest.mark.parametrize("mode, rule", [
    (1, "values_mismatch"),
    (2, "rel_norm"),
    (3, "nan_inf"),
    (4, "large_magnitude"),
    (5, "extra_shape"),
    (6, "inputs_modified"),
])
def test_injected_numerical_fault_is_incorrect(softmax, worker, mode, rule):
    verdict = verify(softmax, f"MODE = {mode}\n{MODES}", worker)
    assert verdict.status == "incorrect", verdict.summary()
    assert verdict.rule == rule, verdict.summary()
    assert verdict.stage == "correctness"
    assert rule in verdict.flags


DYNAMIC_CASES = {
    "shape_mismatch": ("incorrect", "correctness", "        return launch(x, torch.empty_like(x), 0)[:, :-1]"),
    "dtype_mismatch": ("incorrect", "correctness", "        return launch(x, torch.empty_like(x), 0).double()"),
    "device_mismatch": ("incorrect", "correctness", "        return launch(x, torch.empty_like(x), 0).to('meta')"),
    "not_dense_tensor": ("incorrect", "correctness",
                         "        return launch(x, torch.empty_like(x), 0).as_subclass(Wrapped)"),
    "output_aliases_input": ("incorrect", "correctness", "        return launch(x, x, 0)"),
    "reused_reference_output": ("incorrect", "correctness",
                                "        y = torch.empty_like(x)\n        launch(x, torch.empty_like(x), 0)\n"
                                "        return y"),
    "nondeterministic": ("incorrect", "correctness",
                         "        self.calls = getattr(self, 'calls', 0) + 1\n"
                         "        return launch(x, torch.empty_like(x), 1 if self.calls == 2 else 0)"),
    "caching": ("rejected", "anticheat",
                "        if getattr(self, 'keep', None) is None:\n"
                "            self.keep = launch(x, torch.empty_like(x), 0)\n        return self.keep"),
    "no_kernel_launched": ("rejected", "anticheat", "        return torch.empty_like(x)"),
    "reference_ops": ("rejected", "anticheat",
                      "        launch(x, torch.empty_like(x), 0)\n"
                      "        return getattr(torch, 'soft' + 'max')(x, -1)"),
    "harness_tampering": ("rejected", "load", "        return launch(x, torch.empty_like(x), 0)"),
    "timer_tampering": ("rejected", "load", "        return launch(x, torch.empty_like(x), 0)"),
    "side_effects": ("rejected", "correctness",
                     "        x.numpy().tofile('/kw_checks_escape.bin')\n"
                     "        return launch(x, torch.empty_like(x), 0)"),
    "reference_access": ("rejected", "anticheat",
                         "        system = sys  # an alias: vars(sys) itself is a static finding\n"
                         "        frame = vars(system)['_get' + 'frame'](1)\n"
                         "        return launch(x, torch.empty_like(x), 0)"),
    "threads": ("rejected", "anticheat",
                "        y = torch.empty_like(x)\n"
                "        system = sys  # an alias: vars(sys) itself is a static finding\n"
                "        worker = vars(system)['mod' + 'ules']['threading'].Thread(target=launch, args=(x, y, 0))\n"
                "        worker.start()\n        worker.join()\n        return y"),
}
EXTRA = {
    "threads": "import sys\n",
    "reference_access": "import sys\n",
    "not_dense_tensor": "class Wrapped(torch.Tensor):\n    pass\n",
    # operator.setitem on vars(): past the static check, so the identity snapshot must catch it
    "harness_tampering": "import operator\noperator.setitem(vars(torch), 'allclose', lambda *a, **k: True)\n",
    "timer_tampering": "import operator, time as clock\noperator.setitem(vars(clock), 'perf_counter', lambda: 0.0)\n",
}


@pytest.mark.parametrize("rule", sorted(DYNAMIC_CASES))
def test_dynamic_cheat_is_caught(softmax, worker, rule):
    status, stage, body = DYNAMIC_CASES[rule]
    verdict = verify(softmax, with_forward(body, EXTRA.get(rule, "")), worker, timing=False)
    assert verdict.status == status, verdict.summary()
    assert verdict.rule == rule, verdict.summary()
    assert verdict.stage == stage, verdict.summary()
    assert rule in verdict.flags


def test_compile_error_carries_the_compiler_message(softmax, worker):
    broken = HONEST.replace("tl.max(x, axis=0)", "tl.max(x, axis=0, no_such_argument=1)")
    verdict = verify(softmax, broken, worker)
    assert verdict.status in ("compile_error", "runtime_error"), verdict.summary()
    assert "no_such_argument" in verdict.logs + verdict.message


def test_import_failure_is_compile_error_at_load(softmax, worker):
    verdict = verify(softmax, HONEST + "\nraise RuntimeError('broken at import')\n", worker)
    assert verdict.status == "compile_error" and verdict.stage == "load"
    assert "broken at import" in verdict.message


def test_runtime_exception_is_runtime_error(softmax, worker):
    verdict = verify(softmax, with_forward("        raise ValueError('kaboom in forward')"), worker)
    assert verdict.status == "runtime_error" and verdict.stage == "correctness"
    assert "kaboom in forward" in verdict.message


def test_memo_by_data_pointer_is_caught_while_timing(softmax, worker):
    extra = "MEMO = {}\n"
    body = ("        key = (x.data_ptr(), x._version)\n        if key not in MEMO:\n"
            "            MEMO.update({key: launch(x, torch.empty_like(x), 0)})\n"
            "        return MEMO[key]")
    verdict = verify(softmax, with_forward(body, extra), worker)
    assert verdict.status == "rejected" and verdict.rule == "caching", verdict.summary()
    assert verdict.stage in ("anticheat", "timing")  # a reused address may already hit the memo in a trial


def test_global_holding_the_verifier_is_forbidden():
    import types

    from kernelwright.verifier import rules
    from kernelwright.verifier.sandbox import candidate_side

    module = types.ModuleType("kw_candidate_probe")
    module.helper = rules.status_for
    module.judge_module = rules
    module.fine = torch.softmax
    assert sorted(candidate_side._forbidden_refs(module)) == ["helper", "judge_module"]


def test_cupy_candidate_without_cupy_is_compile_error_with_install_hint(softmax, worker):
    import importlib.util

    if importlib.util.find_spec("cupy") is not None:
        pytest.skip("cupy is installed here")
    source = with_forward("        return launch(x, torch.empty_like(x), 0)", "import cupy\n")
    verdict = verify(softmax, source, worker, timing=False)
    assert verdict.status == "compile_error" and verdict.stage == "compile", verdict.summary()
    assert "pip install kernelwright[cuda13]" in verdict.message


def test_precompiled_load_inline_candidate_is_reused_and_correct(softmax, worker):
    import shutil

    from kernelwright.verifier.backends import precompile

    if shutil.which("c++") is None or shutil.which("ninja") is None:
        pytest.skip("needs a C++ compiler and ninja")
    source = (DATA / "softmax_cpp.py").read_text()
    worker.call("kernelwright.verifier.sandbox.candidate_side:ping", None, timeout_s=120, stage="load")
    extensions = Path(worker.cache_dir) / "torch_extensions"
    built = precompile([source], extensions_dir=str(extensions))
    assert list(built.values()) == [(True, "")], built
    libraries = {p: p.stat().st_mtime_ns for p in extensions.rglob("*.so")}
    assert libraries, "precompile left no shared library"
    verdict = verify(softmax, source, worker, timing=False)
    assert verdict.status == "correct" and verdict.backend == "load_inline", verdict.summary() + verdict.logs
    assert {p: p.stat().st_mtime_ns for p in extensions.rglob("*.so")} == libraries  # reused, not rebuilt
