"""The synchronous CUDA loop notices work left running on other streams (CPU test with a fake device).

Events on the timed stream see none of such work; a device-wide synchronise after the end event
does. torch.cuda is replaced by a fake whose synchronise waits for "side-stream" work.
"""
import time

import pytest
from kernelwright.verifier import timing


class FakeEvent:
    def __init__(self, enable_timing=True):
        self.t = 0.0

    def record(self):
        self.t = time.perf_counter()

    def synchronize(self):
        pass

    def elapsed_time(self, end):
        return (end.t - self.t) * 1e3


class FakeDevice:
    """Side-stream work is a deadline that torch.cuda.synchronize() must wait for."""

    def __init__(self):
        self.busy_until = 0.0

    def synchronize(self):
        while time.perf_counter() < self.busy_until:
            pass


@pytest.fixture
def device(monkeypatch):
    fake = FakeDevice()
    monkeypatch.setattr(timing.torch.cuda, "Event", FakeEvent)
    monkeypatch.setattr(timing.torch.cuda, "synchronize", fake.synchronize)
    monkeypatch.setattr(timing.torch.cuda, "_sleep", lambda cycles: None, raising=False)
    monkeypatch.setattr(timing, "L2Flusher", lambda device: type("F", (), {"__call__": lambda s: None,
                                                                           "persisting_reset": False})())
    return fake


def run(call):
    inputs = [[timing.torch.zeros(4)]]
    return timing.sync_loop_cuda(call, inputs, reps=30)


def test_work_left_on_a_side_stream_is_lingering(device):
    def hides_work(_):
        device.busy_until = time.perf_counter() + 0.002  # 2 ms still running after the call returns

    report = run(hides_work)
    assert report["lingering_reps"] == report["reps"] and timing.lingering(report)


def test_work_finished_within_the_call_is_not_lingering(device):
    def honest(_):
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < 0.0005:  # 0.5 ms on the timed stream
            pass

    report = run(honest)
    assert not timing.lingering(report), report


def test_batched_timing_reports_every_repetition(device):
    def honest(_):
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < 0.0002:
            pass

    report = timing.time_cuda(honest, [[timing.torch.zeros(4)]], warmup_ms=1.0, rep_ms=5.0, min_reps=20, max_reps=40)
    assert 20 <= report["reps"] <= 40 and report["n"] == report["reps"]
    assert 0.15 <= report["median_ms"] < 5.0, report
