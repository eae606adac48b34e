"""Unit checks of the verifier's pieces: static rules, tolerances, inputs, evidence helpers."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch
from kernelwright.verifier import correctness, inputs, static_checks
from kernelwright.verifier.backends import detect_backend
from kernelwright.verifier.problem import load_problem
from kernelwright.verifier.sandbox import dynamic_checks

ROOT = Path(__file__).resolve().parents[1]
HONEST = (ROOT / "tests" / "data" / "checks" / "softmax_ok.py").read_text()
HEAD = HONEST.split("class ModelNew")[0]


def rules_of(source: str) -> list[str]:
    return [f.rule for f in static_checks.check_source(source)]


def forward(body: str, top: str = "") -> str:
    return f"{top}\n{HEAD}\nclass ModelNew(nn.Module):\n    def forward(self, x):\n{body}\n"


@pytest.mark.parametrize("rule, source", [
    ("fallback_try_except", forward("        try:\n            return x\n        except Exception:\n"
                                    "            return torch.softmax(x, -1)")),
    ("subclass_reference", "class Model: pass\nclass ModelNew(Model):\n    pass\n"),
    ("subclass_reference", forward("        return Model()(x)")),
    ("reference_ops", forward("        return torch.softmax(x, dim=-1)")),
    ("reference_ops", forward("        return F.softmax(x, dim=-1)", "import torch.nn.functional as F")),
    ("reference_ops", forward("        return x @ x.t()")),
    ("reference_ops", forward("        return (x - x.amax(-1, keepdim=True)).exp()")),
    ("library_kernel", forward("        return cp.matmul(cp.asarray(x), cp.asarray(x))", "import cupy as cp")),
    ("threads", forward("        return x", "import threading")),
    ("threads", forward("        return x", "from concurrent.futures import ThreadPoolExecutor")),
    ("side_effects", forward("        return x", "import subprocess")),
    ("side_effects", forward("        os.system('true')\n        return x", "import os")),
    ("side_stream", forward("        s = torch.cuda.Stream()\n        return x")),
    ("reference_access", forward("        return x", "import gc")),
    ("reference_access", forward("        return sys._getframe(1).f_locals['ref']", "import sys")),
    ("reference_access", forward("        return sys.modules['x']", "import sys")),
    ("reference_access", forward("        return vars(sys)['mod' + 'ules']['x']", "import sys")),
    ("reference_access", forward("        return sys.__dict__['mod' + 'ules']['x']", "import sys")),
    ("forbidden_import", forward("        return x", "import kernelwright.verifier.judge")),
    ("forbidden_import", forward("        return x", "import ctypes")),
    ("forbidden_import", forward("        return eval('x')")),
    ("timer_tampering", forward("        return x", "import time\ntime.perf_counter = lambda: 0.0")),
    ("timer_tampering", forward("        return x", "torch.cuda.Event.elapsed_time = lambda *a: 0.001")),
    ("harness_tampering", forward("        return x", "torch.allclose = lambda *a, **k: True")),
    ("harness_tampering", forward("        return x", "vars(torch)['equal'] = lambda *a: True")),
    ("harness_tampering", forward("        return x", "setattr(torch.testing, 'assert_close', print)")),
    ("caching", forward("        global LAST\n        return x")),
    ("caching", forward("        y = launch(x)\n        self.last = y\n        return y")),
    ("caching", forward("        y = launch(x)\n        CACHE[x.shape] = y\n        return y", "CACHE = {}")),
])
def test_static_rule_fires(rule, source):
    assert rule in rules_of(source), static_checks.check_source(source)


def test_honest_candidates_have_no_static_findings():
    sources = [HONEST] + [p.read_text() for p in sorted((ROOT / "problems" / "candidates").glob("*.py"))]
    for source in sources:
        assert static_checks.check_source(source) == [], source[:200]


def test_allowed_calls_in_forward_are_not_flagged():
    body = ("        x = x.contiguous().view(-1, x.shape[-1])\n        y = torch.empty_like(x)\n"
            "        z = torch.zeros(4, device=x.device, dtype=torch.float32)\n"
            "        n = triton.cdiv(x.numel(), 128)\n        return y.reshape(x.shape).float()")
    assert rules_of(forward(body)) == []


def test_backend_detection():
    assert detect_backend(HONEST) == "triton"
    assert detect_backend("import cupy\nk = cupy.RawKernel('', 'k')\nclass ModelNew: pass") == "cupy"
    assert detect_backend("from torch.utils.cpp_extension import load_inline\nclass ModelNew: pass") == "load_inline"
    assert detect_backend("class ModelNew: pass") == "unknown"


def test_fp16_downcast_fails_fp32_tolerance_but_fp32_rounding_passes():
    torch.manual_seed(0)
    ref = torch.softmax(torch.randn(64, 1000, dtype=torch.float64), -1)
    tol = correctness.tolerance_for(torch.float32)
    honest = correctness.compare(ref.float(), ref, tol)
    downcast = correctness.compare(ref.half().float(), ref, tol)
    assert honest.passed and honest.rel_norm_err < 1e-7
    assert downcast.rules == ["rel_norm"] and downcast.rel_norm_err > 1e-4


def test_zeros_for_tiny_outputs_fail_the_relative_norm():
    ref = torch.full((256,), 1e-6, dtype=torch.float64)
    result = correctness.compare(torch.zeros(256), ref, correctness.tolerance_for(torch.float32))
    assert result.rules == ["rel_norm"] and result.rel_norm_err == pytest.approx(1.0)


def test_nan_where_reference_is_finite_and_matching_nan_positions():
    ref = torch.tensor([1.0, float("nan"), float("inf")], dtype=torch.float64)
    tol = correctness.tolerance_for(torch.float32)
    assert correctness.compare(torch.tensor([1.0, float("nan"), float("inf")]), ref, tol).passed
    bad = correctness.compare(torch.tensor([float("nan"), float("nan"), float("inf")]), ref, tol)
    assert "nan_inf" in bad.rules
    assert "values_mismatch" in correctness.compare(torch.tensor([1.0, 2.0, float("inf")]), ref, tol).rules


def test_problem_tolerance_overrides_and_dtype_defaults():
    assert correctness.tolerance_for(torch.bfloat16).atol == 1e-2
    assert correctness.tolerance_for(torch.float16).rtol == 1e-3
    loose = correctness.tolerance_for(torch.float32, {"atol": 1e-2, "rtol": {"float32": 2e-2}})
    assert (loose.atol, loose.rtol, loose.rel_norm) == (1e-2, 2e-2, 2e-2)
    assert correctness.tolerance_for(torch.int32).atol == 0.0


def test_shape_mismatch_is_reported():
    result = correctness.compare(torch.zeros(3), torch.zeros(4, dtype=torch.float64),
                                 correctness.tolerance_for(torch.float32))
    assert result.rules == ["shape_mismatch"]


def test_trial_plan_has_five_random_an_extra_shape_a_large_magnitude_and_a_shifted_trial():
    problem = load_problem(ROOT / "problems" / "softmax.py")
    plan = inputs.plan_trials(problem, trials=5, extra_shapes=True, large_magnitude=True, small=True)
    kinds = [t.kind for t in plan]
    assert kinds.count("random") == 5 and kinds[-3:] == ["extra_shape", "large_magnitude", "shifted"]
    assert len({t.seed for t in plan}) == len(plan)
    assert plan[0].overrides == {"ROWS": 64, "COLS": 1000}
    assert plan[-3].overrides == {"ROWS": 127, "COLS": 1029}
    assert (plan[-2].scale, plan[-2].shift, plan[-1].scale, plan[-1].shift) == (100.0, None, None, 1000.0)
    a = inputs.make_inputs(problem, plan[0].overrides, plan[0].seed)[0]
    b = inputs.make_inputs(problem, plan[0].overrides, plan[0].seed)[0]
    large = inputs.make_inputs(problem, plan[-2].overrides, plan[0].seed, scale=100.0)[0]
    shifted = inputs.make_inputs(problem, plan[-1].overrides, plan[0].seed, shift=1000.0)[0]
    assert torch.equal(a, b) and torch.allclose(large, 100.0 * a) and torch.equal(shifted, a + 1000.0)


def test_problem_without_extra_shapes_gets_odd_perturbed_constants():
    source = ("import torch\nimport torch.nn as nn\nN = 256\nM = 64\n"
              "class Model(nn.Module):\n    def forward(self, x):\n        return x * 2\n"
              "def get_inputs():\n    return [torch.randn(M, N)]\ndef get_init_inputs():\n    return []\n")
    problem = load_problem(source)
    shapes = inputs.extra_shape_overrides(problem, small=False)
    assert shapes == [{"N": 257, "M": 65}]


def test_poison_fills_freed_memory_and_is_counted():
    out = torch.full((10,), float("nan"))
    out.view(torch.int32)[:3] = -1
    assert inputs.poisoned_count(out) == 3
    assert inputs.poisoned_count(torch.full((4,), -1, dtype=torch.int32)) == 0


def test_op_recorder_sees_compute_but_not_allocation():
    tracker = dynamic_checks.LaunchTracker()
    recorder = dynamic_checks.OpRecorder(tracker)
    x = torch.randn(8, 8)
    with recorder:
        y = torch.empty_like(x).view(64).reshape(8, 8)
        y.copy_(x)
        z = torch.softmax(x, -1)
    assert recorder.compute_ops() == ["_softmax"]
    assert z.shape == y.shape


def test_op_recorder_poisons_uninitialised_float_allocations_outside_launches(monkeypatch):
    poisoned_shapes = []
    real = inputs.poison_tensor
    monkeypatch.setattr(inputs, "poison_tensor", lambda t: (poisoned_shapes.append(tuple(t.shape)), real(t)))
    tracker = dynamic_checks.LaunchTracker()
    with dynamic_checks.OpRecorder(tracker):
        unwritten = [torch.empty(6), torch.empty_like(torch.ones(2, 3, dtype=torch.bfloat16)),
                     torch.empty_strided((3, 2), (1, 3), dtype=torch.float16), torch.ones(2).new_empty(5)]
        ints = torch.empty(4, dtype=torch.int32)
        written = torch.empty(4).fill_(0.5)
        with tracker.launching("kernel"):  # a launch's own scratch memory is left alone
            torch.empty(7)
    assert [inputs.poisoned_count(t) for t in unwritten] == [6, 6, 6, 5]
    assert all(torch.isnan(t).all() for t in unwritten)
    assert inputs.poisoned_count(ints) == 0 and (written == 0.5).all()
    assert (7,) not in poisoned_shapes and (4,) in poisoned_shapes


def test_tamper_snapshot_notices_replaced_timer_and_comparison():
    import time

    before = dynamic_checks.snapshot()
    original_counter, original_allclose = time.perf_counter, torch.allclose
    try:
        time.perf_counter = lambda: 0.0
        torch.allclose = lambda *a, **k: True
        changed = dynamic_checks.tampered(before)
    finally:
        time.perf_counter, torch.allclose = original_counter, original_allclose
    assert "time.perf_counter" in changed["timer"] and "torch.allclose" in changed["harness"]
    assert dynamic_checks.tampered(before) == {"timer": [], "harness": []}


def test_library_kernel_names_are_recognised():
    kernels = [{"name": "sm90_xmma_gemm_f32f32_tf32f32", "stream": 7, "own_stream": True},
               {"name": "softmax_kernel", "stream": 7, "own_stream": True},
               {"name": "void at::native::vectorized_elementwise_kernel<4, at::native::FillFunctor<float>>",
                "stream": 7, "own_stream": True}]
    assert dynamic_checks.library_kernels(kernels) == ["sm90_xmma_gemm_f32f32_tf32f32"]


def test_speed_of_light_floor_and_integrity_thresholds():
    from kernelwright.verifier import timing

    peaks = {"bandwidth": 3.0e12, "table_bandwidth": 3.35e12, "peak_bf16": 7e14, "table_flops": 989e12}
    floor = timing.speed_of_light_ms(5 * 32e6, 268e6, peaks)  # softmax 4096 x 8192 fp32
    assert floor == pytest.approx(268e6 / 3.35e12 * 1e3)
    assert timing.impossible(0.003, floor) and not timing.impossible(0.1, floor)
    assert timing.speed_of_light_ms(None, None, peaks) is None
    assert timing.wall_mismatch(0.003, 0.4)  # events saw nothing, the wall clock saw the work
    assert not timing.wall_mismatch(0.1, 0.13) and not timing.wall_mismatch(0.005, 0.03)
    stats = timing.stats([1.0, 2.0, 3.0])
    assert stats["median_ms"] == 2.0 and stats["n"] == 3


def test_own_kernel_names_do_not_count_as_library_but_cannot_mask_one():
    kernels = [{"name": "ampere_sgemm_128x64_nn", "stream": 7, "own_stream": True},
               {"name": "_Z12my_reductionPKfPfi", "stream": 7, "own_stream": True}]
    assert dynamic_checks.library_kernels(kernels, own=("my_reduction",)) == ["ampere_sgemm_128x64_nn"]
    assert dynamic_checks.library_kernels(kernels, own=("ampere_sgemm",)) == ["ampere_sgemm_128x64_nn"]


def test_cupy_launch_hooks_count_kernels_and_are_not_forbidden_globals():
    import types

    from kernelwright.verifier.sandbox import candidate_side

    class RawKernel:
        def __init__(self, code, name):
            self.name = name

        def __call__(self, grid, block, args):
            return "launched"

    class RawModule:
        def __init__(self, code):
            pass

        def get_function(self, name):
            return RawKernel("", name)

    fake = types.SimpleNamespace(RawKernel=RawKernel, RawModule=RawModule)
    tracker = dynamic_checks.LaunchTracker()
    from kernelwright.verifier.backends import CountingRawKernelFactory

    CountingRawKernelFactory(tracker.launching).install(fake)
    kernel = fake.RawKernel("code", "row_sum")
    function = fake.RawModule("code").get_function("row_max")
    assert kernel((1,), (1,), ()) == "launched" and function((1,), (1,), ()) == "launched"
    assert dict(tracker.launches) == {"cupy:row_sum": 1, "cupy:row_max": 1}
    module = types.ModuleType("kw_candidate_cupy")
    module.kernel, module.function, module.cls = kernel, function, fake.RawKernel
    assert candidate_side._forbidden_refs(module) == []


def test_an_output_left_on_the_worker_is_judged_by_its_reported_shape():
    """GPU outputs are fetched only when their shape matches the reference; others still fail."""
    from kernelwright.verifier import evidence

    ref = evidence.Reference([torch.zeros(4, 5, dtype=torch.float64)], [torch.float32], True)
    left_behind = {"is_tensor": True, "type": "Tensor", "device": "cuda", "dtype": "float32",
                   "shape": [4, 6], "dense": True, "tensor": None, "pending": 0}
    fired = evidence.Fired()
    evidence.check_outputs([left_behind], ref, {}, "cuda", fired)
    assert fired.rules == ["shape_mismatch"] and "(4, 6)" in fired.messages["shape_mismatch"]


def test_output_fingerprint_tells_outputs_apart():
    from kernelwright.verifier import evidence

    x = torch.randn(300, 301)
    same = evidence.fingerprint([{"tensor": x.clone()}])
    assert same == evidence.fingerprint([{"tensor": x}])
    y = x.clone()
    y[7, 9] += 1.0  # one element off the sampled grid still changes the exact sum
    assert evidence.fingerprint([{"tensor": y}]) != same


def test_frame_attributes_count_only_when_the_candidate_itself_reads_them(monkeypatch, tmp_path):
    """A library the candidate calls may read a traceback's frame (CuPy does, handling its own
    exceptions); only the candidate's own line reading tb_frame / gi_frame is reference_access."""
    from kernelwright.verifier.sandbox import candidate_side

    seen: list[str] = []
    candidate_file, library_file = str(tmp_path / "candidate.py"), str(tmp_path / "library.py")
    monkeypatch.setattr(candidate_side, "_report", seen.append)
    monkeypatch.setattr(candidate_side.STATE, "candidate_file", candidate_file)
    monkeypatch.setattr(candidate_side.STATE, "tracker", None)
    audit = candidate_side._audit
    library: dict = {"audit": audit}
    library_source = "def read_frame(tb):\n    audit('object.__getattr__', (tb, 'tb_frame'))\n"
    exec(compile(library_source, library_file, "exec"), library)
    candidate: dict = {"audit": audit, "read_frame": library["read_frame"]}
    candidate_source = ("def via_library():\n    read_frame(None)\n\n"
                        "def itself():\n    audit('object.__getattr__', (None, 'tb_frame'))\n")
    exec(compile(candidate_source, candidate_file, "exec"), candidate)
    candidate["via_library"]()
    assert seen == []
    candidate["itself"]()
    assert seen == ["reference_access: object.__getattr__ tb_frame from line 5"]


def test_inductors_triton_helpers_are_kernel_code_but_torch_ops_in_a_kernel_are_not():
    """The inductor family's kernels call torch._inductor.runtime.triton_helpers (@triton.jit functions)."""
    kernel = '''
import torch
import triton
import triton.language as tl
from torch._inductor.runtime import triton_helpers

@triton.jit
def k(x_ptr, y_ptr):
    x = tl.load(x_ptr)
    tl.store(y_ptr, {call})
'''
    assert "reference_ops" not in rules_of(kernel.format(call="triton_helpers.maximum(x, 0.0)"))
    assert "reference_ops" in rules_of(kernel.format(call="torch.relu(x)"))
