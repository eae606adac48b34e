"""One GPU, several workers: correctness work shares the device, timing takes it alone.

    gate = DeviceGate()
    with gate.shared():      # correctness trials (Triton compiles on the first launch), references
        ...
    with gate.exclusive():   # baselines and the candidate's timing: nothing else on the GPU
        ...

A waiting `exclusive` holds new `shared` entries back, so timing is not starved. The pool gives
the workers of one GPU the same gate, so one worker compiles and checks while another times.
Loading a candidate (import, load_inline / CuPy compile, its weights' copy to the device) takes no
part of the gate: a compile of many seconds under `shared` kept every other worker's timing, and
behind it every new `shared` entry, waiting (12 s gate waits on an H100 in a mix with CUDA
attention candidates).
With `timeout_s`, a wait that lasts longer raises `GateTimeout` (the verification's deadline).
"""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


class GateTimeout(TimeoutError):
    """The GPU was not free within the wait's timeout; `stage` names the stage that waited."""

    def __init__(self, message: str, stage: str | None = None) -> None:
        super().__init__(message)
        self.stage = stage


class DeviceGate:
    """A readers-writer lock over one GPU (threads of the judging process)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._sharing = 0
        self._exclusive = False
        self._waiting = 0  # exclusive requests waiting

    @contextmanager
    def shared(self, waits: dict[str, float] | None = None, timeout_s: float | None = None) -> Iterator[None]:
        """Hold the GPU beside other shared holders; `waits["gate_wait"]` adds the seconds waited."""
        began = time.perf_counter()
        with self._cond:
            free = self._cond.wait_for(lambda: not self._exclusive and not self._waiting, timeout_s)
            if not free:
                _add_wait(waits, began)
                raise GateTimeout(f"the GPU was not free to share within {timeout_s:g} s")
            self._sharing += 1
        _add_wait(waits, began)
        try:
            yield
        finally:
            with self._cond:
                self._sharing -= 1
                self._cond.notify_all()

    @contextmanager
    def exclusive(self, waits: dict[str, float] | None = None, timeout_s: float | None = None) -> Iterator[None]:
        """Hold the GPU alone; `waits["gate_wait"]` adds the seconds waited."""
        began = time.perf_counter()
        with self._cond:
            self._waiting += 1
            free = self._cond.wait_for(lambda: not self._exclusive and not self._sharing, timeout_s)
            self._waiting -= 1
            if not free:
                self._cond.notify_all()  # shared entries held back by this wait may go on
                _add_wait(waits, began)
                raise GateTimeout(f"the GPU was not free to hold alone within {timeout_s:g} s")
            self._exclusive = True
        _add_wait(waits, began)
        try:
            yield
        finally:
            with self._cond:
                self._exclusive = False
                self._cond.notify_all()


def _add_wait(waits: dict[str, float] | None, began: float) -> None:
    if waits is not None:
        waits["gate_wait"] = round(waits.get("gate_wait", 0.0) + time.perf_counter() - began, 4)
