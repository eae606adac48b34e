"""The whole verification's deadline: every worker call and every wait for the GPU fits inside it.

Each stage has its own call deadline (`deadlines.py`, `load_timeout_s`), but stages add up and a
wait for a shared GPU has none of its own. `Budget` is the verification's stated deadline
(`VerifyOptions.verify_timeout_s`; 600 s on a GPU, 1800 s on the CPU by default), counted from the
moment a worker takes the job. `BudgetedWorker` cuts each call's timeout (and compile allowance,
and a worker start) to what is left; `BudgetedGate` cuts each wait for the GPU. Past the deadline
the verdict is `timeout` at the stage that was running, and says so.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from .gate import GateTimeout
from .sandbox.worker import WorkerError

GPU_VERIFY_S = 600.0
CPU_VERIFY_S = 1800.0


def verify_seconds(verify_timeout_s: float | None, device_type: str) -> float:
    """The stated deadline of one verification on `device_type` ("cuda" or "cpu")."""
    if verify_timeout_s is not None:
        return float(verify_timeout_s)
    return GPU_VERIFY_S if device_type == "cuda" else CPU_VERIFY_S


class Budget:
    """Seconds left until the verification's deadline (a clock may be given for tests)."""

    def __init__(self, total_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.total_s, self.clock = total_s, clock
        self.ends = clock() + total_s

    def left(self) -> float:
        return max(0.0, self.ends - self.clock())

    @property
    def expired(self) -> bool:
        return self.left() <= 0.0

    def cap(self, timeout_s: float, compile_s: float = 0.0) -> tuple[float, float, bool]:
        """(timeout, compile allowance, whether the deadline cut them) for one call."""
        left = self.left()
        if timeout_s >= left:
            return left, 0.0, True
        if timeout_s + compile_s > left:
            return timeout_s, left - timeout_s, True
        return timeout_s, compile_s, False

    def reason(self) -> str:
        return f"verification deadline of {self.total_s:g} s reached"


class BudgetedWorker:
    """A Worker whose calls end by the budget's deadline; everything else is the worker's own."""

    def __init__(self, worker: Any, budget: Budget) -> None:
        self._worker, self.budget = worker, budget

    def __getattr__(self, name: str) -> Any:
        return getattr(self._worker, name)

    def call(self, fn: str, payload: Any, *, timeout_s: float, stage: str = "", compile_s: float = 0.0) -> Any:
        timeout, compile_, cut = self.budget.cap(timeout_s, compile_s)
        if timeout <= 0:
            raise WorkerError("timeout", f"{self.budget.reason()} before this call", stage=stage)
        extra = {"compile_s": compile_} if compile_ else {}
        saved = getattr(self._worker, "startup_timeout_s", None)
        if saved is not None:  # a (re)start of the worker counts too
            self._worker.startup_timeout_s = min(saved, timeout)
        try:
            return self._worker.call(fn, payload, timeout_s=timeout, stage=stage, **extra)
        except WorkerError as error:
            if error.kind != "timeout" or not (cut or self.budget.expired):
                raise
            raise WorkerError("timeout", f"{self.budget.reason()} ({error.reason})", stage=error.stage,
                              log_tail=error.log_tail) from None
        finally:
            if saved is not None:
                self._worker.startup_timeout_s = saved


class BudgetedGate:
    """A DeviceGate whose waits end by the budget's deadline (GateTimeout, naming the stage)."""

    def __init__(self, gate: Any, budget: Budget) -> None:
        self.gate, self.budget = gate, budget

    @contextmanager
    def shared(self, waits: dict[str, float] | None = None, stage: str | None = None) -> Iterator[None]:
        with self._hold(self.gate.shared, waits, stage):
            yield

    @contextmanager
    def exclusive(self, waits: dict[str, float] | None = None, stage: str | None = None) -> Iterator[None]:
        with self._hold(self.gate.exclusive, waits, stage):
            yield

    @contextmanager
    def _hold(self, enter: Callable[..., Any], waits: dict[str, float] | None, stage: str | None) -> Iterator[None]:
        try:
            held = enter(waits, timeout_s=self.budget.left())
            held.__enter__()
        except GateTimeout as exc:
            raise GateTimeout(f"{self.budget.reason()} while waiting for the GPU (another job held it)",
                              stage=stage) from exc
        try:
            yield
        except BaseException as exc:
            if not held.__exit__(type(exc), exc, exc.__traceback__):
                raise
        else:
            held.__exit__(None, None, None)
