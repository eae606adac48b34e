"""The sandboxed worker process: calls, timeouts, crashes, exceptions, restarts, safe replies."""
import os
import time

import pytest
import torch
from kernelwright.verifier.sandbox import wire
from kernelwright.verifier.sandbox.launch import physical_gpu
from kernelwright.verifier.sandbox.worker import Worker, WorkerError, exit_reason


@pytest.fixture(scope="module")
def worker():
    with Worker("cpu", name="rt-worker") as w:
        yield w


def test_call_round_trips_tensors_and_keeps_state(worker):
    x = torch.arange(6, dtype=torch.float32).reshape(2, 3)
    out = worker.call("runtime_helpers:double", x, timeout_s=30)
    assert torch.equal(out, x * 2)
    half = worker.call("runtime_helpers:echo", torch.ones(3, dtype=torch.bfloat16), timeout_s=10)
    assert half.dtype == torch.bfloat16 and half.tolist() == [1.0, 1.0, 1.0]
    assert worker.call("runtime_helpers:pid", None, timeout_s=10) == worker.info["pid"]
    assert worker.pid != os.getpid()


def test_worker_runs_interpreter_mode_in_its_workdir(worker):
    assert worker.call("runtime_helpers:env", "TRITON_INTERPRET", timeout_s=10) == "1"
    assert worker.call("runtime_helpers:env", "CUDA_VISIBLE_DEVICES", timeout_s=10) == ""
    home = worker.call("runtime_helpers:env", "HOME", timeout_s=10)
    assert home.startswith(worker.base_dir) and worker.info["sandbox"]["workdir"] == home


def test_exception_keeps_type_message_and_traceback(worker):
    pid = worker.pid
    with pytest.raises(WorkerError) as info:
        worker.call("runtime_helpers:raise_value_error", "bad tile", timeout_s=10, stage="compile")
    err = info.value
    assert (err.kind, err.stage, err.reason) == ("exception", "compile", "ValueError: bad tile")
    assert "raise_value_error" in err.log_tail and "Traceback" in err.log_tail
    assert worker.pid == pid  # an exception does not cost the process


def test_hang_times_out_and_next_call_restarts(worker):
    restarts = worker.restarts
    began = time.perf_counter()
    with pytest.raises(WorkerError) as info:
        worker.call("runtime_helpers:sleep_forever", None, timeout_s=1.0, stage="correctness")
    assert info.value.kind == "timeout" and info.value.stage == "correctness"
    assert time.perf_counter() - began < 5
    assert not worker.alive
    assert worker.call("runtime_helpers:echo", 7, timeout_s=60) == 7
    assert worker.restarts == restarts + 1 and 0 < worker.last_restart_s < 60


@pytest.mark.parametrize("target, payload, reason", [
    ("runtime_helpers:segfault", None, "exit code -11 (SIGSEGV)"),
    ("runtime_helpers:hard_exit", 3, "exit code 3"),
])
def test_child_death_is_a_crash_with_the_reason(worker, target, payload, reason):
    with pytest.raises(WorkerError) as info:
        worker.call(target, payload, timeout_s=30, stage="correctness")
    assert info.value.kind == "crash" and info.value.reason == reason
    assert worker.call("runtime_helpers:echo", "alive", timeout_s=60) == "alive"


def test_hostile_pickle_reply_is_refused_and_not_executed(worker, tmp_path):
    with pytest.raises(WorkerError) as info:
        worker.call("runtime_helpers:evil_reply", str(tmp_path / "pwned"), timeout_s=30)
    assert info.value.kind == "crash" and "not allowed" in info.value.reason
    assert not (tmp_path / "pwned").exists()


def test_safe_loads_refuses_torch_load_path():
    import pickle

    storage_pickle = pickle.dumps(torch.ones(2))  # torch's own format goes through torch.load
    with pytest.raises(wire.UnsafePayload):
        wire.safe_loads(storage_pickle)
    assert torch.equal(wire.safe_loads(wire.dumps({"t": torch.ones(2)}))["t"], torch.ones(2))


def test_restart_gives_a_fresh_process(worker):
    worker.call("runtime_helpers:pid", None, timeout_s=60)
    first = worker.pid
    worker.restart()
    worker.call("runtime_helpers:pid", None, timeout_s=60)
    assert worker.pid != first and worker.alive


def test_exit_reason_and_device_mapping(monkeypatch):
    assert exit_reason(-9) == "exit code -9 (SIGKILL)"
    assert physical_gpu("cpu") is None
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "4,6")
    assert physical_gpu("cuda:1") == "6" and physical_gpu("cuda") == "4"
    with pytest.raises(ValueError, match="only 2 GPU"):
        physical_gpu("cuda:2")
    with pytest.raises(ValueError, match="unknown device"):
        physical_gpu("tpu")
