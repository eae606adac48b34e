"""The device gate: shared holders overlap, an exclusive holder is alone, waiting timing is not starved."""
import threading
import time

from kernelwright.verifier.gate import DeviceGate
from kernelwright.verifier.pool import VerifierPool


class CountingCondition(threading.Condition):
    """The gate's condition, counting the threads blocked in it (so a test can wait for them)."""

    def __init__(self):
        super().__init__()
        self.blocked = 0

    def wait(self, timeout=None):
        self.blocked += 1
        try:
            return super().wait(timeout)
        finally:
            self.blocked -= 1


def until(check, what):
    """Wait until `check()` is true (bounded: a test helper, also for test_verifier_memory_promises.py)."""
    for _ in range(60_000):  # a bound, not a measurement: fails only if `check` never comes true
        if check():
            return
        time.sleep(0.001)
    raise AssertionError(f"never happened: {what}")


def test_shared_holders_overlap_and_exclusive_waits_for_them():
    gate, log, lock = DeviceGate(), [], threading.Lock()
    gate._cond = CountingCondition()
    inside, release = {"a": threading.Event(), "b": threading.Event()}, threading.Event()

    def hold(kind, name):
        with getattr(gate, kind)():
            with lock:
                log.append(("in", name))
            if name in inside:  # a and b stay until both are in: they overlap by construction
                inside[name].set()
                release.wait(60)
            with lock:
                log.append(("out", name))

    threads = {name: threading.Thread(target=hold, args=(kind, name))
               for name, kind in (("a", "shared"), ("b", "shared"), ("t", "exclusive"), ("c", "shared"))}
    threads["a"].start(), threads["b"].start()
    assert inside["a"].wait(60) and inside["b"].wait(60)  # two shared holders at once
    threads["t"].start()
    until(lambda: gate._cond.blocked == 1, "the exclusive request waits")
    threads["c"].start()  # arrives while timing waits
    until(lambda: gate._cond.blocked == 2, "the late shared request waits too")
    release.set()
    for thread in threads.values():
        thread.join(60)
    order = [f"{kind}:{name}" for kind, name in log]
    assert order.index("in:t") > max(order.index("out:a"), order.index("out:b"))
    assert order.index("out:t") == order.index("in:t") + 1  # nothing ran beside the exclusive holder
    assert order.index("in:c") > order.index("out:t")  # the waiting timing went first


def test_pool_gives_the_workers_of_one_gpu_one_gate(monkeypatch):
    monkeypatch.setattr("kernelwright.verifier.pool.Worker.__init__", _fake_worker_init)
    pool = VerifierPool(["cuda:0", "cuda:1", "cpu"], judge=lambda job, worker: None, per_gpu=2)
    try:
        by_device = {}
        for worker in pool.workers:
            by_device.setdefault(worker.device, set()).add(id(worker.gate))
        assert [len([w for w in pool.workers if w.device == d]) for d in ("cuda:0", "cuda:1", "cpu")] == [2, 2, 1]
        assert all(len(gates) == 1 for gates in by_device.values())
        assert len({next(iter(g)) for g in by_device.values()}) == 3
    finally:
        pool._closed = True
        for _ in pool._threads:
            pool._queue.put(None)


def _fake_worker_init(self, device, name=None, **_):
    self.device, self.name = device, name or device
    self.gate = DeviceGate()


class RecordingGate(DeviceGate):
    """A gate that lists its entries in order: "shared" or "exclusive"."""

    def __init__(self):
        super().__init__()
        self.entries = []

    def shared(self, *args, **kwargs):
        self.entries.append("shared")
        return super().shared(*args, **kwargs)

    def exclusive(self, *args, **kwargs):
        self.entries.append("exclusive")
        return super().exclusive(*args, **kwargs)


def test_a_verification_holds_the_gpu_alone_only_to_measure_and_shares_it_trial_by_trial(monkeypatch):
    """Another job's timing waits for one correctness trial, not for all of them, and the checks of
    the timed outputs (float64 reference, comparison) run beside other jobs, not with the GPU alone."""
    from pathlib import Path

    from kernelwright.verifier import timing_judge
    from kernelwright.verifier.job import Job
    from kernelwright.verifier.judge import judge
    from kernelwright.verifier.options import VerifyOptions
    from kernelwright.verifier.problem import load_problem
    from kernelwright.verifier.sandbox.worker import Worker

    root = Path(__file__).resolve().parents[1]
    gate, held_while_checking = RecordingGate(), []
    check = timing_judge._check_timed_outputs

    def spy(*args):
        held_while_checking.append("exclusive" if gate._exclusive else f"shared by {gate._sharing}")
        return check(*args)

    monkeypatch.setattr(timing_judge, "_check_timed_outputs", spy)
    worker = Worker("cpu", name="gate-use")
    worker.gate = gate
    try:
        honest = (root / "tests" / "data" / "checks" / "softmax_ok.py").read_text()
        job = Job(load_problem(root / "problems" / "softmax.py"), honest, "<test candidate>", VerifyOptions(), "cpu")
        verdict = judge(job, worker)
    finally:
        worker.close()
    assert verdict.status == "correct", verdict.summary()
    # one shared entry per trial, the timed calls alone, then their checks and the profile stage shared
    assert gate.entries == ["shared"] * len(verdict.trials) + ["exclusive", "shared", "shared"]
    assert held_while_checking == ["shared by 1"]
    assert {"timing.call", "timing.outputs", "correctness.candidate", "correctness.reference"} <= set(verdict.durations)
