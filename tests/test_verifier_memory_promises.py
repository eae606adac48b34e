"""GPU memory promised to the verifications in flight (issue 16, item 10: more workers per GPU).

Two jobs of one GPU that each fit alone but not together must not both go on: the second waits
until the first gives its promise back, and a wait that outlasts the verification's deadline is a
`timeout` at load. CPU only: the GPU's free memory and the problem's footprint are faked."""
from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest
import torch
from kernelwright.verifier import memory, memory_judge
from kernelwright.verifier.budget import BudgetedGate
from kernelwright.verifier.gate import DeviceGate
from kernelwright.verifier.job import Job
from kernelwright.verifier.judge import Judge, judge
from kernelwright.verifier.options import VerifyOptions
from kernelwright.verifier.problem import load_problem

from test_verifier_gate import until

PROBLEM = """import torch
class Model(torch.nn.Module):
    def forward(self, x):
        return torch.relu(x)
def get_inputs():
    return [torch.rand(16, 16)]
def get_init_inputs():
    return []
"""
CANDIDATE = "import torch.nn as nn\nclass ModelNew(nn.Module):\n    def forward(self, x):\n        return x\n"
GB = memory.GB


class FakeWorker:
    device, alive, gate = "cuda:0", True, None

    def call(self, fn, payload, **_):
        return {"ok": True, "reserved": 0} if fn.endswith(":release") else True

    def take_events(self):
        return []

    def restart(self):
        pass


@pytest.fixture
def gpu_with_50_gb_free(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (int(50 * GB), int(80 * GB)))
    monkeypatch.setattr(memory, "free_cached", lambda *a, **k: None)


def footprint_of(monkeypatch, peak_gb: float) -> None:
    fake = SimpleNamespace(peak=lambda timing=True: int(peak_gb * GB), describe=lambda: "faked")
    monkeypatch.setattr(memory, "footprint", lambda problem, overrides: fake)


def new_judge(**options) -> Judge:
    return Judge(Job(load_problem(PROBLEM), CANDIDATE, "<candidate>", VerifyOptions(**options), "cuda:0"),
                 FakeWorker())


def check(j: Judge) -> None:
    memory_judge.check_memory(j, {}, BudgetedGate(DeviceGate(), j.budget))


def test_a_job_that_fits_only_alone_waits_for_the_promise_before_it(gpu_with_50_gb_free, monkeypatch):
    footprint_of(monkeypatch, 30)
    first, second = new_judge(), new_judge()
    check(first)  # 30 of 50 GB promised
    went_on = threading.Event()
    thread = threading.Thread(target=lambda: (check(second), went_on.set()))
    try:
        thread.start()
        until(lambda: memory_judge.PROMISES.cond._waiters, "the second job waits for memory")
        assert not went_on.is_set()  # 30 + 30 > 50: it must not go on beside the first
        memory_judge.withdraw(first)
        thread.join(timeout=60)
        assert went_on.is_set() and memory_judge.PROMISES.others("cuda:0") == int(30 * GB)
    finally:
        memory_judge.withdraw(first)
        memory_judge.withdraw(second)
        thread.join(timeout=60)


def test_a_job_that_fits_beside_the_promises_goes_on_at_once(gpu_with_50_gb_free, monkeypatch):
    footprint_of(monkeypatch, 20)
    first, second = new_judge(), new_judge()
    try:
        check(first)
        check(second)  # 20 + 20 <= 50
        assert memory_judge.PROMISES.others("cuda:0") == int(40 * GB)
    finally:
        memory_judge.withdraw(first)
        memory_judge.withdraw(second)
    assert memory_judge.PROMISES.others("cuda:0") == 0


def test_a_wait_for_memory_past_the_deadline_is_a_timeout_at_load_and_gives_nothing_back(
        gpu_with_50_gb_free, monkeypatch):
    footprint_of(monkeypatch, 30)
    holder = new_judge()
    check(holder)
    try:
        verdict = judge(new_judge(verify_timeout_s=0.5).job, FakeWorker())
        assert (verdict.status, verdict.stage) == ("timeout", "load"), verdict.summary()
        assert "waiting for GPU memory promised to other jobs" in verdict.message
        assert memory_judge.PROMISES.others("cuda:0") == int(30 * GB)  # the holder's, untouched
    finally:
        memory_judge.withdraw(holder)


def test_every_verification_gives_its_promise_back(gpu_with_50_gb_free, monkeypatch):
    footprint_of(monkeypatch, 30)
    monkeypatch.setattr(Judge, "time_reference", lambda self, base: (_ for _ in ()).throw(RuntimeError("boom")))
    with pytest.raises(RuntimeError, match="boom"):  # even an unforeseen error after the promise
        judge(new_judge().job, FakeWorker())
    assert memory_judge.PROMISES.others("cuda:0") == 0
