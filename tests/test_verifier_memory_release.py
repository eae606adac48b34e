"""GPU memory between and around verifications (issue 18): released after every job, refused
before the candidate runs when it cannot fit, and an out-of-memory said in one line. CPU only:
the GPU is faked where the judge asks it for free memory."""
from __future__ import annotations

import textwrap
import weakref
from pathlib import Path
from types import SimpleNamespace

import kernelwright.agents.template_coder as template_coder
import pytest
import torch
from kernelwright.verifier import evidence, memory, memory_judge
from kernelwright.verifier import inputs as inputs_mod
from kernelwright.verifier.gate import DeviceGate
from kernelwright.verifier.job import Job
from kernelwright.verifier.judge import Judge, judge
from kernelwright.verifier.options import VerifyOptions
from kernelwright.verifier.pool import VerifierPool
from kernelwright.verifier.problem import load_problem
from kernelwright.verifier.sandbox import candidate_side, candidate_timing, transport
from kernelwright.verifier.sandbox.worker import WorkerError
from kernelwright.verifier.verdict import Verdict

ROOT = Path(__file__).resolve().parents[1]
RELU = textwrap.dedent('''
    import torch
    import torch.nn as nn
    class Model(nn.Module):
        def forward(self, x):
            return torch.relu(x)
    batch_size = 4096
    dim = 393216
    def get_inputs():
        return [torch.rand(batch_size, dim)]
    def get_init_inputs():
        return []
''')  # KernelBench level 1, 19_ReLU at its current sizes: 6.4 GB per fp32 tensor
MATVEC = RELU.replace("torch.relu(x)", "torch.matmul(x, y)").replace("forward(self, x)", "forward(self, x, y)").replace(
    "[torch.rand(batch_size, dim)]", "[torch.rand(2048, 1048576), torch.rand(1048576, 1)]")
CANDIDATE = "import torch.nn as nn\nclass ModelNew(nn.Module):\n    def forward(self, x):\n        return x\n"
S = 4096 * 393216 * 4


class FakeWorker:
    """Answers the judge's calls without a process; records which functions were called."""

    device, alive, gate = "cuda:0", True, None

    def __init__(self, reserved: int = 0) -> None:
        self.calls: list[str] = []
        self.restarts = 0
        self.reserved = reserved

    def call(self, fn: str, payload, **_):
        self.calls.append(fn.rsplit(":", 1)[-1])
        return {"ok": True, "reserved": self.reserved} if fn.endswith(":release") else True

    def take_events(self) -> list[str]:
        return []

    def restart(self) -> None:
        self.restarts += 1


def fake_gpu(monkeypatch, free: float | list[float], total: float = 143.7e9) -> None:
    """A GPU with `free` bytes free (a list: one figure per look, the last one repeated)."""
    looks = list(free) if isinstance(free, list) else [free]
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "mem_get_info",
                        lambda device=None: (int(looks.pop(0) if len(looks) > 1 else looks[0]), int(total)))
    monkeypatch.setattr(memory, "free_cached", lambda *a, **k: None)


class CountingGate(DeviceGate):
    def __init__(self) -> None:
        super().__init__()
        self.exclusive_entries = 0

    def exclusive(self, waits=None, timeout_s=None):
        self.exclusive_entries += 1
        return super().exclusive(waits, timeout_s)


def gpu_job(source: str = RELU) -> Job:
    return Job(load_problem(source), CANDIDATE, "<candidate>", VerifyOptions(), "cuda:0")


def test_relu_footprint_counts_full_size_tensors_from_a_meta_run():
    found = memory.footprint(load_problem(RELU), {})
    assert (found.inputs, found.outputs, found.inputs64, found.outputs64, found.weights) == (S, S, 2 * S, 2 * S, 0)
    assert found.peak(timing=False) == 7 * S  # originals + float64 in/out + the worker's two outputs
    assert found.peak(timing=True) == 12 * S  # 3 sets + fresh set + 3 sampled outputs in the worker, 1 + 2 + 2 here
    assert round(found.peak() / memory.GB, 1) == 77.3


def test_matvec_footprint_is_dominated_by_its_8_gib_matrix():
    found = memory.footprint(load_problem(MATVEC), {})
    matrix = 2048 * 1048576 * 4
    assert found.inputs == matrix + 1048576 * 4 and found.outputs == 2048 * 4
    assert found.peak() == 5 * found.inputs + 3 * found.outputs + found.inputs64 + found.outputs64


def test_problem_that_cannot_fit_is_refused_before_any_candidate_code(monkeypatch):
    fake_gpu(monkeypatch, free=40e9)
    worker = FakeWorker()
    worker.gate = CountingGate()
    verdict = judge(gpu_job(), worker)
    assert worker.gate.exclusive_entries == 1  # looked again with the GPU to itself before refusing
    assert (verdict.status, verdict.stage) == ("runtime_error", "load")
    assert verdict.flags == ["gpu_memory"]
    assert verdict.message == ("does not fit in GPU memory: verifying at these sizes needs ~77.3 GB (inputs 6.4 GB, "
                               "outputs 6.4 GB, float64 reference), the GPU has 40.0 GB free of 143.7 GB")
    assert worker.calls == ["ping", "release"]  # no load, no run: the candidate never ran


@pytest.mark.parametrize("looks, exclusive", [([80e9], 0), ([40e9, 80e9], 1)])
def test_problem_that_fits_goes_on_to_the_reference(monkeypatch, looks, exclusive):
    fake_gpu(monkeypatch, free=looks)  # a second look, once other jobs on the GPU finished their stage
    reached = []

    def stop(self, base):
        reached.append(base)
        raise RuntimeError("stop here")

    monkeypatch.setattr(Judge, "time_reference", stop)
    worker = FakeWorker()
    worker.gate = CountingGate()
    with pytest.raises(RuntimeError, match="stop here"):
        judge(gpu_job(), worker)
    assert reached == [{}] and worker.gate.exclusive_entries == exclusive


def test_out_of_memory_in_the_judge_is_one_line_not_a_trace(monkeypatch):
    def oom(j, base, gate):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 14.00 GiB. GPU 0 has a total capacity "
                                     "of 139.80 GiB of which 4.94 GiB is free. Including non-PyTorch memory, ...")

    monkeypatch.setattr(memory_judge, "check_memory", oom)
    worker = FakeWorker()
    verdict = judge(gpu_job(), worker)
    assert (verdict.status, verdict.stage, verdict.flags) == ("runtime_error", "load", ["gpu_memory"])
    assert verdict.message == "load (verifier side): out of GPU memory (tried to allocate 14.00 GiB, 4.94 GiB free)"
    assert worker.calls[-1] == "release"


def test_out_of_memory_reported_by_the_worker_is_one_line():
    j = Judge(Job(load_problem(RELU), CANDIDATE, "<candidate>", VerifyOptions(), "cpu"), FakeWorker())
    verdict = j._finish("runtime_error", "correctness", "correctness: OutOfMemoryError: CUDA out of memory. Tried to "
                        "allocate 8.00 GiB. GPU 0 has a total capacity of 139.80 GiB of which 7.63 GiB is free.\nmore")
    assert verdict.message == "correctness: out of GPU memory (tried to allocate 8.00 GiB, 7.63 GiB free)"
    assert verdict.flags == ["gpu_memory"]
    plain = Judge(j.job, FakeWorker())._finish("runtime_error", "load",
                                               "load raised AcceleratorError: CUDA error: out of memory")
    assert plain.message == "load: out of GPU memory" and plain.flags == ["gpu_memory"]


@pytest.mark.parametrize("reserved, restarts", [(0, 0), (2 << 30, 1)])
def test_worker_is_released_after_the_job_and_restarted_if_it_holds_memory(reserved, restarts):
    worker = FakeWorker(reserved)
    memory_judge.release_worker(SimpleNamespace(worker=worker))
    assert worker.calls == ["release"] and worker.restarts == restarts


def test_release_of_a_worker_killed_on_the_way_needs_no_restart():
    class Dying(FakeWorker):
        def call(self, fn, payload, **_):
            raise WorkerError("timeout", "no answer", stage="done")

    worker = Dying()
    memory_judge.release_worker(SimpleNamespace(worker=worker))
    assert worker.restarts == 0


def test_release_drops_everything_the_job_left_in_the_worker(monkeypatch):
    state = SimpleNamespace(model=object(), pending=[torch.ones(3)], sets={"k": [[torch.ones(3)]]},
                            baselines={"k": object()})
    monkeypatch.setattr(candidate_side, "STATE", state)
    assert candidate_side.release() == {"ok": True, "reserved": 0}
    assert (state.model, state.pending, state.sets, state.baselines) == (None, [], {}, {})


def test_input_sets_of_the_baselines_are_dropped_before_the_candidate_loads(monkeypatch):
    state = SimpleNamespace(baselines={}, sets={"k": [[torch.ones(3)]]})
    monkeypatch.setattr(candidate_timing, "STATE", state)
    candidate_timing.drop_reference()
    assert state.sets == {} and state.baselines == {}


def test_fetch_frees_each_output_once_the_parent_has_it(monkeypatch):
    buffers = [torch.zeros(3), torch.zeros(3)]
    emptied = []
    kept = [torch.ones(3), 2 * torch.ones(3)]
    monkeypatch.setattr(candidate_side, "STATE", SimpleNamespace(device="cuda:0", pending=kept))
    monkeypatch.setattr(transport, "open_shared", lambda record, device: buffers[record])
    monkeypatch.setattr(torch.cuda, "synchronize", lambda device=None: None)
    monkeypatch.setattr(torch.cuda, "empty_cache", lambda: emptied.append(True))
    candidate_side.fetch({"buffers": [[1, 0]]})
    assert buffers[0].tolist() == [2.0, 2.0, 2.0]
    assert candidate_side.STATE.pending[1] is None and candidate_side.STATE.pending[0] is not None and emptied == [True]


def test_pool_gives_cached_memory_back_after_every_job(monkeypatch):
    released = []
    monkeypatch.setattr(memory, "free_cached", lambda device, collect=False: released.append((device, collect)))
    with VerifierPool(["cpu"], judge=lambda job, worker: Verdict(status="correct", stage="done")) as pool:
        verdicts = pool.verify_many([(RELU, CANDIDATE)] * 3)
    assert [v.status for v in verdicts] == ["correct"] * 3
    assert released == [("cpu", True)] * 3


def test_free_cached_empties_the_cuda_cache_only_where_cuda_was_used(monkeypatch):
    done = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: True)
    monkeypatch.setattr(torch.cuda, "empty_cache", lambda: done.append("empty_cache"))
    monkeypatch.setattr(torch.cuda, "ipc_collect", lambda: done.append("ipc_collect"))
    memory.free_cached("cpu")
    assert done == []
    memory.free_cached("cuda:0")
    assert done == ["ipc_collect", "empty_cache"]


def test_benchmark_records_gpu_memory_and_tries_no_other_config(monkeypatch):
    from kernelwright.bench import offline_solve as bench

    class Coder:
        def __init__(self, only=None):
            self.only = only

        def generate(self, request):
            return SimpleNamespace(source=CANDIDATE, error=None, meta={"template": "lowered", "config": {}})

    refused = Verdict(status="runtime_error", stage="load", flags=["gpu_memory"],
                      message="does not fit in GPU memory: verifying at these sizes needs ~70.9 GB")
    verified = []
    monkeypatch.setattr(template_coder, "TemplateCoder", Coder)
    monkeypatch.setattr("kernelwright.verify", lambda *a, **k: verified.append(k) or refused)
    out = bench.solve_direct(load_problem(RELU), configs=2, workdir="/tmp", device="cuda")
    assert out["status"] == "gpu_memory" and out["attempts"] == 1 and len(verified) == 1
    assert "needs ~70.9 GB" in out["reason"]


def test_a_real_job_leaves_nothing_in_the_worker():
    from kernelwright.verifier.sandbox.worker import Worker

    problem = load_problem(ROOT / "problems" / "softmax.py")
    honest = (ROOT / "tests" / "data" / "checks" / "softmax_ok.py").read_text()
    with Worker("cpu") as worker:
        verdict = judge(Job(problem, honest, "<candidate>", VerifyOptions(), "cpu"), worker)
        assert verdict.status == "correct" and verdict.timing is not None, verdict.summary()
        left = worker.call("runtime_helpers:candidate_state", None, timeout_s=60)
        assert worker.starts == 1  # released, not restarted
    assert left == {"model": False, "pending": 0, "sets": 0, "baselines": 0}


class CpuWorker(FakeWorker):
    """Runs `torch.relu` as the candidate would, answering `load` and `run` like candidate_side."""

    device = "cpu"

    def call(self, fn: str, payload, **_):
        name = fn.rsplit(":", 1)[-1]
        self.calls.append(name)
        if name == "load":
            return {"ok": True, "backend": "triton"}
        if name == "run":
            x = payload["inputs"][0]
            return {"ok": True, "runs": [{"outputs": [candidate_side.record_outputs(torch.relu(x))],
                                          "launches": {"k": 1},
                                          "kernels": [], "compute_ops": [], "aliases": [], "inputs_after": [x.clone()]}
                                         for _ in range(payload["repeat"])]}
        return super().call(fn, payload)


def test_no_trial_starts_while_an_earlier_trial_still_holds_its_tensors(monkeypatch):
    made, held = [], []
    reference_outputs, make_inputs = evidence.reference_outputs, inputs_mod.make_inputs

    def tracked_reference(*args, **kwargs):
        ref = reference_outputs(*args, **kwargs)
        made.extend(weakref.ref(t) for t in ref.outputs)
        return ref

    def tracked_inputs(*args, **kwargs):
        held.append(sum(alive() is not None for alive in made))  # earlier references still alive
        return make_inputs(*args, **kwargs)

    monkeypatch.setattr(evidence, "reference_outputs", tracked_reference)
    monkeypatch.setattr(inputs_mod, "make_inputs", tracked_inputs)
    j = Judge(Job(load_problem(RELU), CANDIDATE, "<candidate>", VerifyOptions(timing=False), "cpu"), CpuWorker())
    j.load(inputs_mod.base_overrides(j.problem, small=True))
    j.trials()
    assert [t.passed for t in j.verdict.trials] == [True] * len(j.verdict.trials) and len(held) >= 7
    assert held == [0] * len(held)
