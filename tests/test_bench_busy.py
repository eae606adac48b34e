"""Busy accounting of a bench: the verifier's in-flight share per device and the NVML/nvidia-smi sampler."""
import itertools
import threading

import pytest

from bench_fixtures import bench_config, write_problem
from kernelwright.bench import run_bench
from kernelwright.bench.gpubusy import GpuBusySampler, nvml_reader
from kernelwright.bench.verifyclock import VerifyClock, busy_shares, union_seconds

SLEEPY = "bench_fakes:sleep_verifier"


def test_union_of_overlapping_spans_counts_once():
    assert union_seconds([(0, 2), (1, 3), (5, 6)]) == 4
    shares = busy_shares({"cuda:0": [(0, 2), (1, 4)]}, ["cuda:0", "cuda:1"], 8.0)
    assert shares["per_device"] == {"cuda:0": 0.5, "cuda:1": 0.0} and shares["mean"] == 0.25


def test_clock_times_each_verifier_call_and_sums_judge_seconds():
    clock = VerifyClock()
    verify = clock.wrap(SLEEPY)
    verdicts = verify("problem", ["a.py", "b.py"], 0.05, "cpu")
    assert [v.status for v in verdicts] == ["correct", "correct"]
    data = clock.payload()
    (start, end), = data["spans"]
    assert end - start >= 0.05 and data["candidates"] == 2 and data["judge_s"] == pytest.approx(0.1)


class FakeClock:
    """`time.time` that only `time.sleep` moves: spans and wall time come out exact, whatever the load."""

    def __init__(self, now: float = 1_000_000.0):
        self.now, self._lock = now, threading.Lock()

    def time(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds


def test_bench_reports_verifier_busy_share_from_the_runs_verifier_calls(tmp_path, monkeypatch):
    suite = tmp_path / "suite"
    for name in ("1_a", "2_b"):
        write_problem(suite, name, attempts=2, delay_s=0.05, verify_s=0.3, speedup=1.1)
    config = bench_config(tmp_path, suite, bench_id="busy", run_options={"verifier": SLEEPY})
    clock = FakeClock()
    monkeypatch.setattr("time.time", clock.time)
    monkeypatch.setattr("time.sleep", clock.sleep)
    outcome = run_bench(config)
    monkeypatch.undo()
    stats = outcome.stats
    assert stats["verifier_judge_s"] == pytest.approx(4 * 0.3)
    assert stats["verifier_busy"]["busy_s"] == {"cpu#0": pytest.approx(4 * 0.3)}  # four verifications, nothing else
    assert outcome.wall_s == pytest.approx(4 * (0.05 + 0.3))  # the coder's delays are not verifier time
    assert stats["verifier_busy_share"] == pytest.approx(0.3 / 0.35)
    assert stats["gpu"]["available"] is False or stats["gpu"]["method"] in ("nvml", "nvidia-smi")


def test_two_worker_processes_each_account_their_own_device(tmp_path):
    suite = tmp_path / "suite"
    for i in range(4):  # the first two runs meet at a rendezvous, so both worker processes take one
        write_problem(suite, f"{i}_p", attempts=1, verify_s=0.4, rendezvous=str(tmp_path / "meet"), parties=2)
    config = bench_config(tmp_path, suite, bench_id="two", devices="cpu*2", worker_mode="process",
                          run_options={"verifier": SLEEPY})
    outcome = run_bench(config)
    assert len(outcome.ran) == 4
    per = outcome.stats["verifier_busy"]["busy_s"]
    assert set(per) == {"cpu#0", "cpu#1"}
    assert all(v >= 0.4 for v in per.values())  # both devices verified (a 0.4 s sleep lasts at least 0.4 s)
    assert outcome.stats["verifier_judge_s"] == pytest.approx(4 * 0.4)  # the judges' own figures, not a clock


def test_sampler_polls_a_reader_until_stopped_and_averages():
    values = itertools.cycle([{"0": 100.0, "1": 30.0}, {"0": 60.0, "1": 30.0}])
    polled, enough = [], threading.Event()

    def reader():
        polled.append(1)
        if len(polled) >= 4:
            enough.set()
        return next(values)

    with GpuBusySampler(interval_ms=5, indices=["0"], reader=reader) as sampler:
        assert enough.wait(60)
    summary = sampler.summary()
    assert summary["available"] and set(summary["per_gpu"]) == {"0"}
    assert summary["per_gpu"]["0"]["samples"] == len(polled) >= 4
    assert 0.6 <= summary["mean_busy_share"] <= 1.0


def test_without_nvml_or_nvidia_smi_the_summary_says_not_sampled(monkeypatch):
    assert nvml_reader("libdoes-not-exist.so.1") is None
    monkeypatch.setattr("kernelwright.bench.gpubusy.nvml_reader", lambda: None)
    monkeypatch.setattr("kernelwright.bench.gpubusy.smi_reader", lambda: None)
    with GpuBusySampler() as sampler:
        pass
    assert sampler.summary() == {"available": False, "method": "none",
                                 "note": "neither NVML nor nvidia-smi found: GPU kernel-active share not sampled"}


def test_local_pool_over_two_fake_gpus_narrows_each_worker_to_its_gpu():
    import tempfile
    from pathlib import Path

    from bench_fixtures import FAKE_RUN
    from kernelwright.bench.devices import resolve_devices
    from kernelwright.bench.jobs import Job
    from kernelwright.bench.localpool import LocalPool

    with tempfile.TemporaryDirectory() as tmp:
        paths = [write_problem(Path(tmp), f"{i}_p", attempts=1, verify_s=0.2) for i in range(4)]
        jobs = [Job(key=p.stem, path=str(p), run_fn=FAKE_RUN, options={"verifier": SLEEPY}) for p in paths]
        done = {}
        LocalPool(resolve_devices("cuda:0,1", cuda_count=2), mode="process").run(
            jobs, lambda job, worker: None, lambda job, payload: done.__setitem__(job.key, payload))
    assert len(done) == 4 and all(p["ok"] for p in done.values())
    seen = {(p["worker"], p["device"], p["result"]["history"][0]["meta"]["visible"]) for p in done.values()}
    assert seen == {("cuda:0", "cuda:0", "0"), ("cuda:1", "cuda:0", "1")}  # each process sees one GPU as cuda:0
    assert all(len(p["verify"]["spans"]) == 1 for p in done.values())
