"""How long each device's verifier is busy during a bench, measured where the runs call it.

A bench run hands its candidates to the verifier through `Context.verifier`; `VerifyClock.wrap`
puts a stopwatch around that call (the real verifier pool unless the run names another), so a
run's payload carries the [start, end] spans in which one of its verification batches was in
flight, plus the judges' own seconds (`Verdict.elapsed_s`). The runner unions the spans per
device: **verifier busy share** = seconds in which a verification job was in flight on that
device / bench wall time. With a pool that never idles while a job waits, "in flight" means one
of the device's verifier workers is compiling, checking or timing a candidate; worker start-up
inside a job counts as busy too.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from kernelwright.bench.jobs import resolve_run_fn

VerifyFn = Callable[..., list]


def union_seconds(spans: list[tuple[float, float]]) -> float:
    """Seconds covered by the union of [start, end] intervals (overlapping batches count once)."""
    total, end = 0.0, float("-inf")
    for start, stop in sorted(spans):
        if stop > end:
            total += stop - max(start, end)
            end = stop
    return total


class VerifyClock:
    """Collects verification spans of one run; `payload()` is JSON for the coordinator."""

    def __init__(self) -> None:
        self.spans: list[tuple[float, float]] = []
        self.judge_s = 0.0
        self.candidates = 0
        self._lock = threading.Lock()

    def wrap(self, inner: VerifyFn | str | None = None) -> VerifyFn:
        """A verifier with the run's signature that times `inner` (a callable, 'module:function' or
        None for the real out-of-process pool)."""
        if isinstance(inner, str):
            inner = resolve_run_fn(inner)
        if inner is None:
            from kernelwright.verifier.api import verify_many as inner

        def timed(problem: Any, paths: list, options: Any, device: str) -> list:
            started = time.time()
            try:
                verdicts = list(inner(problem, paths, options, device))
            finally:
                with self._lock:
                    self.spans.append((started, time.time()))
            with self._lock:
                self.candidates += len(paths)
                self.judge_s += sum(float(getattr(v, "elapsed_s", 0.0) or 0.0) for v in verdicts)
            return verdicts

        return timed

    def payload(self) -> dict[str, Any]:
        with self._lock:
            return {"spans": list(self.spans), "judge_s": self.judge_s, "candidates": self.candidates}


def busy_shares(spans_by_device: dict[str, list[tuple[float, float]]], devices: list[str],
                wall_s: float) -> dict[str, Any]:
    """Per device and mean verifier busy share over `wall_s` (devices without spans count as idle)."""
    busy_s = {d: union_seconds(spans_by_device.get(d, [])) for d in sorted(set(devices) | set(spans_by_device))}
    per = {d: (busy / wall_s if wall_s > 0 else None) for d, busy in busy_s.items()}
    shares = [v for v in per.values() if v is not None]
    return {"per_device": per, "mean": (sum(shares) / len(shares)) if shares else None, "busy_s": busy_s}
