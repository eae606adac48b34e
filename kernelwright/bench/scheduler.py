"""Run bench jobs: one run at a time per device, locally (worker pool) or through Ray.

Local: a coordinating thread per device feeds that device's own worker process (spawned,
with CUDA_VISIBLE_DEVICES set to the one GPU) so each GPU has exactly one verifier worker.
Ray: tasks with num_gpus=1 (the device comes from `ray.get_gpu_ids()`), at most one task in
flight per GPU of the cluster. Either way the coordinator receives plain-JSON payloads and is
the only writer of the store. Overlapping compiles with timing inside a GPU is not done here.
"""
from __future__ import annotations

import os
import queue
import socket
import threading
import time
import traceback
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from importlib import import_module
from multiprocessing import get_context
from typing import Any, Callable

from kernelwright.bench.devices import Device

DEFAULT_RUN_FN = "kernelwright.run:run_graph"


@dataclass
class Job:
    """One problem to run: where it is, which run function, and its keyword options."""

    key: str
    path: str
    run_fn: str = DEFAULT_RUN_FN
    options: dict[str, Any] = field(default_factory=dict)  # budget_s, iterations, coder, run_id, artifacts_dir
    timeout_s: float | None = None  # hard limit for the whole run (worker is killed past it)


OnStart = Callable[[Job, str], None]            # job, worker label
OnDone = Callable[[Job, dict[str, Any]], None]  # job, payload


def resolve_run_fn(spec: str) -> Callable[..., Any]:
    module, _, attr = spec.partition(":")
    if not module or not attr:
        raise ValueError(f"run function {spec!r} must look like 'package.module:function'")
    return getattr(import_module(module), attr)


def execute(job: Job, device: str, worker: str) -> dict[str, Any]:
    """Run one job in this process and return a JSON-able payload (never raises)."""
    started = time.time()
    base = {"device": device, "worker": worker, "pid": os.getpid(), "started_at": started}
    try:
        result = resolve_run_fn(job.run_fn)(job.path, device=device, **job.options)
        data = result.model_dump(mode="json") if hasattr(result, "model_dump") else dict(result)
        return {**base, "ok": True, "result": data, "finished_at": time.time()}
    except BaseException as exc:  # noqa: BLE001 - the bench goes on; the error is recorded
        if isinstance(exc, KeyboardInterrupt):
            raise
        line = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}".strip()
        return {**base, "ok": False, "error": line, "trace": traceback.format_exc()[-4000:], "finished_at": time.time()}


def _init_worker(env: dict[str, str]) -> None:
    os.environ.update(env)


def error_payload(job: Job, worker: str, message: str, started: float) -> dict[str, Any]:
    return {"ok": False, "error": message, "worker": worker, "device": "", "started_at": started, "finished_at": time.time()}


class LocalPool:
    """One worker per device; `mode="process"` (default) isolates runs, "thread" runs in-process."""

    def __init__(self, devices: list[Device], mode: str = "process"):
        if mode not in ("process", "thread"):
            raise ValueError(f"worker mode {mode!r}: choose process or thread")
        self.devices = devices
        self.mode = mode

    def run(self, jobs: list[Job], on_start: OnStart, on_done: OnDone) -> None:
        todo: queue.Queue[Job] = queue.Queue()
        for job in jobs:
            todo.put(job)
        events: queue.Queue[tuple] = queue.Queue()
        threads = [threading.Thread(target=self._serve, args=(d, todo, events), daemon=True) for d in self.devices]
        for thread in threads:
            thread.start()
        remaining = len(jobs)
        while remaining:
            kind, job, data = events.get()
            if kind == "start":
                on_start(job, data)
            else:
                on_done(job, data)
                remaining -= 1
        for thread in threads:
            thread.join(timeout=5)

    def _serve(self, device: Device, todo: queue.Queue, events: queue.Queue) -> None:
        executor: ProcessPoolExecutor | None = None
        try:
            while True:
                try:
                    job = todo.get_nowait()
                except queue.Empty:
                    return
                events.put(("start", job, device.label))
                if self.mode == "thread":
                    events.put(("done", job, execute(job, device.label if device.label.startswith("cuda") else device.run_device, device.label)))
                    continue
                if executor is None:
                    executor = ProcessPoolExecutor(1, mp_context=get_context("spawn"), initializer=_init_worker, initargs=(device.env,))
                started = time.time()
                future = executor.submit(execute, job, device.run_device, device.label)
                try:
                    payload = future.result(timeout=job.timeout_s)
                except BrokenProcessPool:
                    payload = error_payload(job, device.label, "worker process died (crash or out of memory); run restarted for the next problem", started)
                    executor = _discard(executor)
                except TimeoutError:
                    payload = error_payload(job, device.label, f"timeout: run exceeded {job.timeout_s:.0f} s; worker killed", started)
                    executor = _discard(executor)
                events.put(("done", job, payload))
        finally:
            if executor is not None:
                executor.shutdown(wait=False, cancel_futures=True)


def _discard(executor: ProcessPoolExecutor) -> None:
    for process in list(getattr(executor, "_processes", {}).values()):
        process.kill()
    executor.shutdown(wait=False, cancel_futures=True)
    return None


def _ray_execute(job: Job) -> dict[str, Any]:
    """Ray task body: pick the device Ray assigned (it also set CUDA_VISIBLE_DEVICES)."""
    import ray

    gpu_ids = [str(g) for g in ray.get_gpu_ids()]
    try:
        import torch

        has_cuda = torch.cuda.is_available()
    except Exception:  # noqa: BLE001
        has_cuda = False
    device = "cuda:0" if gpu_ids and has_cuda else "cpu"
    label = f"{socket.gethostname()}/gpu{gpu_ids[0]}" if gpu_ids else f"{socket.gethostname()}/cpu"
    return execute(job, device, label)


class RayPool:
    """Ray tasks over a cluster (`address`: auto, local, ray://host:port or host:port)."""

    def __init__(self, address: str = "auto", init_kwargs: dict[str, Any] | None = None):
        self.address = address
        self.init_kwargs = dict(init_kwargs or {})

    def run(self, jobs: list[Job], on_start: OnStart, on_done: OnDone) -> None:
        import ray

        started_here = not ray.is_initialized()
        if started_here:
            address = None if self.address == "local" else self.address
            ray.init(address=address, include_dashboard=False, log_to_driver=False, **self.init_kwargs)
        try:
            self._run(ray, jobs, on_start, on_done)
        finally:
            if started_here:
                ray.shutdown()

    def _run(self, ray: Any, jobs: list[Job], on_start: OnStart, on_done: OnDone) -> None:
        resources = ray.cluster_resources()
        gpus = int(resources.get("GPU", 0))
        options = {"num_gpus": 1, "max_retries": 0} if gpus else {"num_cpus": 1, "max_retries": 0}
        slots = gpus or max(int(resources.get("CPU", 1)), 1)
        task = ray.remote(_ray_execute).options(**options)
        waiting = list(jobs)
        in_flight: dict[Any, tuple[Job, float]] = {}
        while waiting or in_flight:
            while waiting and len(in_flight) < slots:
                job = waiting.pop(0)
                in_flight[task.remote(job)] = (job, time.time())
                on_start(job, "ray")
            done, _ = ray.wait(list(in_flight), num_returns=1, timeout=5.0)
            for ref in done:
                job, started = in_flight.pop(ref)
                try:
                    payload = ray.get(ref)
                except Exception as exc:  # noqa: BLE001 - task or worker died
                    payload = error_payload(job, "ray", f"ray task failed: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}", started)
                on_done(job, payload)
            for ref, (job, started) in list(in_flight.items()):
                if job.timeout_s and time.time() - started > job.timeout_s:
                    ray.cancel(ref, force=True)
                    in_flight.pop(ref)
                    on_done(job, error_payload(job, "ray", f"timeout: run exceeded {job.timeout_s:.0f} s; task cancelled", started))
