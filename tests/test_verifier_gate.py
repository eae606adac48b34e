"""The device gate: shared holders overlap, an exclusive holder is alone, waiting timing is not starved."""
import threading
import time

from kernelwright.verifier.gate import DeviceGate
from kernelwright.verifier.pool import VerifierPool


def test_shared_holders_overlap_and_exclusive_waits_for_them():
    gate, log, lock = DeviceGate(), [], threading.Lock()

    def hold(kind, name, seconds):
        with getattr(gate, kind)():
            with lock:
                log.append(("in", name))
            time.sleep(seconds)
            with lock:
                log.append(("out", name))

    a = threading.Thread(target=hold, args=("shared", "a", 0.3))
    b = threading.Thread(target=hold, args=("shared", "b", 0.3))
    a.start(), b.start()
    time.sleep(0.05)
    t = threading.Thread(target=hold, args=("exclusive", "t", 0.1))
    t.start()
    time.sleep(0.05)
    c = threading.Thread(target=hold, args=("shared", "c", 0.05))  # arrives while timing waits
    c.start()
    for thread in (a, b, t, c):
        thread.join(5)
    order = [f"{kind}:{name}" for kind, name in log]
    assert order.index("in:b") < order.index("out:a")  # the two shared holders overlapped
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
