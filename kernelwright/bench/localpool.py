"""Local scheduling: one worker process per device, each running up to N problems at a time.

Each device gets one spawned worker process (CUDA_VISIBLE_DEVICES narrowed to its GPU), so the
process-wide verifier pool inside it holds the verifier workers of that one GPU. With
`runs_per_device` > 1 several runs share that process (threads) and that verifier: while one
run's coder thinks, another run's candidate is verified, which keeps the GPU busier.
A worker that dies or a run that exceeds its time limit costs a restart of the process. When a
crash hits several runs at once, each is queued again and later runs alone, so that only the
run that crashes alone is recorded as an error.
"""
from __future__ import annotations

import os
import queue
import threading
import time
from multiprocessing import get_context
from typing import Any

from kernelwright.bench.devices import Device
from kernelwright.bench.execute import execute
from kernelwright.bench.jobs import Job, OnDone, OnStart, error_payload

POLL_S = 0.25


def _device_main(env: dict[str, str], run_device: str, label: str, jobs: Any, results: Any, threads: int) -> None:
    """Worker process body: run jobs from `jobs` on `threads` threads, answer on `results`."""
    os.environ.update(env)

    def loop() -> None:
        while True:
            job = jobs.get()
            if job is None:
                return
            results.put((job.key, execute(job, run_device, label)))

    workers = [threading.Thread(target=loop, daemon=True) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


class LocalPool:
    """One worker per device; `mode="process"` (default) isolates runs, "thread" runs in-process."""

    def __init__(self, devices: list[Device], mode: str = "process", runs_per_device: int = 1):
        if mode not in ("process", "thread"):
            raise ValueError(f"worker mode {mode!r}: choose process or thread")
        if runs_per_device < 1:
            raise ValueError(f"runs per device {runs_per_device}: must be at least 1")
        self.devices = devices
        self.mode = mode
        self.runs_per_device = runs_per_device
        self.deadline: float | None = None  # unix time after which no new run starts (None: no limit)

    def _next(self, todo: queue.Queue, events: queue.Queue) -> Job | None:
        """The next job, or None when none is left; past the deadline every job left is skipped."""
        while True:
            try:
                job = todo.get_nowait()
            except queue.Empty:
                return None
            if self.deadline is None or time.time() < self.deadline:
                return job
            events.put(("skip", job, None))

    def run(self, jobs: list[Job], on_start: OnStart, on_done: OnDone) -> None:
        todo: queue.Queue[Job] = queue.Queue()
        for job in jobs:
            todo.put(job)
        events: queue.Queue[tuple] = queue.Queue()
        serve = self._serve_process if self.mode == "process" else self._serve_thread
        copies = 1 if self.mode == "process" else self.runs_per_device
        threads = [threading.Thread(target=serve, args=(d, todo, events), daemon=True)
                   for d in self.devices for _ in range(copies)]
        for thread in threads:
            thread.start()
        remaining = len(jobs)
        while remaining:
            kind, job, data = events.get()
            if kind == "start":
                on_start(job, data)
            elif kind == "skip":  # not started before the deadline: stays pending for a re-run
                remaining -= 1
            else:
                on_done(job, data)
                remaining -= 1
        for thread in threads:
            thread.join(timeout=5)

    def _serve_thread(self, device: Device, todo: queue.Queue, events: queue.Queue) -> None:
        # in-process runs cannot narrow CUDA_VISIBLE_DEVICES: name the physical GPU instead
        run_device = device.label if device.label.startswith("cuda") else device.run_device
        while True:
            job = self._next(todo, events)
            if job is None:
                return
            events.put(("start", job, device.label))
            events.put(("done", job, execute(job, run_device, device.label)))

    def _serve_process(self, device: Device, todo: queue.Queue, events: queue.Queue) -> None:
        ctx = get_context("spawn")
        proc, job_q, res_q = None, None, None
        in_flight: dict[str, tuple[Job, float]] = {}
        try:
            while True:
                while len(in_flight) < self.runs_per_device:
                    if any(j.crashes for j, _ in in_flight.values()):
                        break  # a suspect of an earlier crash runs alone
                    job = self._next(todo, events)
                    if job is None:
                        break
                    if job.crashes and in_flight:
                        todo.put(job)  # wait until this worker is idle, then run it alone
                        break
                    if proc is None:
                        job_q, res_q = ctx.Queue(), ctx.Queue()
                        proc = ctx.Process(target=_device_main, daemon=True, args=(
                            device.env, device.run_device, device.label, job_q, res_q, self.runs_per_device))
                        proc.start()
                    events.put(("start", job, device.label))
                    job_q.put(job)
                    in_flight[job.key] = (job, time.time())
                if not in_flight:
                    return
                try:
                    key, payload = res_q.get(timeout=POLL_S)
                    job, _ = in_flight.pop(key)
                    events.put(("done", job, payload))
                    continue
                except queue.Empty:
                    pass
                now = time.time()
                late = [key for key, (job, t0) in in_flight.items() if job.timeout_s and now - t0 > job.timeout_s]
                if proc.is_alive() and not late:
                    continue
                culprits = set(late) if late else (set(in_flight) if len(in_flight) == 1 else set())
                reason = "timeout: run exceeded {:.0f} s; worker killed" if late else \
                    "worker process died (crash or out of memory)"
                _stop(proc)
                proc = None
                for key, (job, t0) in list(in_flight.items()):
                    job.crashes += 0 if late else 1
                    if key in culprits or job.crashes >= 2:
                        payload = error_payload(job, device.label, reason.format(job.timeout_s or 0), t0)
                        events.put(("done", job, payload))
                    else:
                        todo.put(job)  # innocent bystander: run it again
                in_flight.clear()
        finally:
            if proc is not None:
                for _ in range(self.runs_per_device):
                    job_q.put(None)
                proc.join(timeout=10)
                _stop(proc)


def _stop(proc: Any) -> None:
    if proc.is_alive():
        proc.kill()
    proc.join(timeout=5)
