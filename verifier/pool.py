"""A pool of workers, four per GPU by default (or N on the CPU), each verifying one candidate at a time.

    pool = VerifierPool(devices_from_spec("cuda:0,1"))
    futures = [pool.submit(problem, cand) for cand in candidates]
    verdicts = pool.verify_many([(problem, c) for c in candidates])   # order preserved

Each job goes to the first free worker and is decided by the judge
(`kernelwright.verifier.judge:judge(job, worker) -> Verdict` unless another is given).
Whatever escapes the judge becomes a verdict: a worker timeout -> `timeout`, a crash or an
exception -> `runtime_error`. The caller never gets the candidate's failure as an exception.
After every job this process gives its cached GPU memory back (`memory.free_cached`), so nothing
one problem's references used is held when the next problem's worker needs it.
"""
from __future__ import annotations

import atexit
import dataclasses
import os
import queue
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from pathlib import Path
from typing import Any, cast, get_args

from kernelwright.verifier.environment import gpu_count as _gpu_count  # tests patch this name
from kernelwright.verifier.gate import DeviceGate
from kernelwright.verifier.job import Job, make_job, resolve_options
from kernelwright.verifier.options import VerifyOptions
from kernelwright.verifier.problem import Problem, source_sha
from kernelwright.verifier.sandbox.worker import Worker, WorkerError
from kernelwright.verifier.verdict import Environment, Stage, Status, Verdict, truncate

DEFAULT_JUDGE = "kernelwright.verifier.judge:judge"
JUDGE_ENV = "KERNELWRIGHT_JUDGE"  # "module:function" to swap the judge (tests, plugins)
CPU_WORKERS_ENV = "KERNELWRIGHT_CPU_WORKERS"
GPU_WORKERS_ENV = "KERNELWRIGHT_WORKERS_PER_GPU"
_STAGES = set(get_args(Stage))
Judge = Callable[[Job, Worker], Verdict]


def cpu_workers() -> int:
    """CPU workers for interpreter mode: $KERNELWRIGHT_CPU_WORKERS, default 1."""
    value = os.environ.get(CPU_WORKERS_ENV, "1")
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{CPU_WORKERS_ENV}={value!r} is not a positive integer")
    return int(value)


def workers_per_gpu() -> int:
    """Workers sharing each GPU: $KERNELWRIGHT_WORKERS_PER_GPU, default 4 (the others compile and check
    while one times; timing has the GPU alone, see `gate`; jobs that would not fit in the GPU's memory
    together wait for each other, see `memory_judge.Promises`)."""
    value = os.environ.get(GPU_WORKERS_ENV, "4")
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{GPU_WORKERS_ENV}={value!r} is not a positive integer")
    return int(value)


def devices_from_spec(spec: str = "auto") -> list[str]:
    """Devices for a spec: auto | all | cpu | cpu*N | cuda | cuda:N | cuda:0,1 ("auto": GPUs, else CPU)."""
    text = (spec or "auto").strip().lower()
    if text == "cpu":
        return ["cpu"] * cpu_workers()
    if text.startswith("cpu*"):
        count = text[4:]
        if not count.isdigit() or int(count) < 1:
            raise ValueError(f"device {spec!r}: use cpu*N with N a positive number of CPU workers")
        return ["cpu"] * int(count)
    gpus = _gpu_count()
    if text == "auto":
        return [f"cuda:{i}" for i in range(gpus)] or ["cpu"] * cpu_workers()
    if text in ("all", "cuda") and not gpus:
        raise ValueError(f"device {spec!r}: no CUDA GPU is visible; use --device cpu")
    if text in ("all", "cuda"):  # every visible GPU, as `kernelwright bench --devices cuda`
        return [f"cuda:{i}" for i in range(gpus)]
    if text.startswith("cuda:"):
        indices = [part.strip() for part in text[5:].split(",")]
        if not all(i.isdigit() for i in indices):
            raise ValueError(f"device {spec!r}: use cuda:N or cuda:0,1 with GPU numbers")
        missing = [i for i in indices if int(i) >= gpus]
        if missing:
            raise ValueError(f"device {spec!r}: GPU {missing[0]} not visible ({gpus} GPU(s) found)")
        return [f"cuda:{i}" for i in dict.fromkeys(indices)]
    raise ValueError(f"unknown device {spec!r}; use auto, all, cpu, cpu*N, cuda or cuda:N[,M]")


def release_memory(device: str) -> None:
    """Give this process's cached GPU memory back after a job (torch is imported only if a judge did)."""
    if "torch" in sys.modules:
        from kernelwright.verifier import memory

        memory.free_cached(device, collect=True)


def _resolve_judge(judge: Judge | str | None) -> Judge:
    if callable(judge):
        return judge
    from kernelwright.verifier.sandbox.child import resolve

    return cast(Judge, resolve(judge or os.environ.get(JUDGE_ENV) or DEFAULT_JUDGE))


def verdict_from_error(job: Job, error: WorkerError) -> Verdict:
    """The verdict for a worker failure that escaped the judge."""
    stage = error.stage if error.stage in _STAGES else "load" if error.stage == "start" else "correctness"
    status, message = error.verdict_parts(stage)
    return Verdict(status=cast(Status, status), stage=cast(Stage, stage),
                   message=message.splitlines()[0][:1000] if message else "", logs=truncate(error.log_tail))


class VerifierPool:
    """Workers per device (`per_gpu` on each GPU, sharing its `DeviceGate`; one per CPU entry);
    jobs queue up and each worker runs them one at a time."""

    def __init__(self, devices: list[str] | None = None, *, judge: Judge | str | None = None,
                 worker_options: dict[str, Any] | None = None, per_gpu: int | None = None) -> None:
        self.devices = list(devices or devices_from_spec("auto"))
        per_gpu = per_gpu or workers_per_gpu()
        gates: dict[str, DeviceGate] = {}
        self.workers = []
        for i, device in enumerate(self.devices):
            for slot in range(per_gpu if device != "cpu" else 1):
                worker = Worker(device, name=f"{device.replace(':', '')}-{i}-{slot}", **(worker_options or {}))
                worker.gate = gates.setdefault(device, DeviceGate())
                self.workers.append(worker)
        self._judge_spec = judge
        self._judge: Judge | None = None
        self._environments: dict[str, Environment] = {}
        self._queue: queue.Queue = queue.Queue()
        self._closed = False
        self._threads = [threading.Thread(target=self._serve, args=(w,), daemon=True, name=f"kw-pool-{w.name}")
                         for w in self.workers]
        for thread in self._threads:
            thread.start()

    def submit(self, problem: Problem | str | Path, candidate: str | Path,
               options: VerifyOptions | None = None, **overrides: Any) -> Future[Verdict]:
        """Queue one verification. A broken problem file raises LoadError here, at once."""
        if self._closed:
            raise RuntimeError("this VerifierPool is closed; create a new one")
        job = make_job(problem, candidate, resolve_options(options, **overrides))
        future: Future[Verdict] = Future()
        if isinstance(job, Verdict):
            future.set_result(job)
        else:
            self._queue.put((job, future))
        return future

    def verify_many(self, items: Iterable[tuple | dict]) -> list[Verdict]:
        """Verify (problem, candidate[, options]) tuples or keyword dicts; verdicts in input order."""
        futures = [self.submit(**item) if isinstance(item, dict) else self.submit(*item) for item in items]
        return [future.result() for future in futures]

    def run_job(self, job: Job, worker: Worker) -> Verdict:
        """Judge one job on one worker, turning every escape into a verdict."""
        started = time.perf_counter()
        try:
            if self._judge is None:
                self._judge = _resolve_judge(self._judge_spec)
            verdict = self._judge(job, worker)
        except WorkerError as error:
            verdict = verdict_from_error(job, error)
        except Exception as exc:  # noqa: BLE001 - a harness bug still yields a verdict
            verdict = Verdict(status="runtime_error", stage="done",
                              message=f"verifier error: {type(exc).__name__}: {exc}".splitlines()[0][:500],
                              logs=truncate(traceback.format_exc()))
        release_memory(worker.device)  # the job's references and comparisons are gone
        verdict.problem = verdict.problem or job.problem.name
        verdict.candidate_sha = verdict.candidate_sha or source_sha(job.candidate_source)
        verdict.elapsed_s = verdict.elapsed_s or round(time.perf_counter() - started, 3)
        if not verdict.environment.python:
            verdict.environment = self.environment(worker)
        return verdict

    def environment(self, worker: Worker) -> Environment:
        """The environment seen by a worker (asked once per device, then cached)."""
        if worker.device not in self._environments:
            local = "cpu" if worker.device == "cpu" else "cuda:0"
            try:
                env = Environment(**worker.call("kernelwright.verifier.environment:describe", local,
                                                timeout_s=60, stage="done"))
            except (WorkerError, TypeError, ValueError):
                from kernelwright.verifier.environment import collect_environment

                env = collect_environment("cpu")
            env.device = worker.device
            self._environments[worker.device] = env
        return self._environments[worker.device].model_copy()

    def _serve(self, worker: Worker) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            job, future = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(self.run_job(dataclasses.replace(job, device=worker.device), worker))
            except BaseException as exc:  # noqa: BLE001 - never leave a future hanging
                future.set_exception(exc)

    def close(self) -> None:
        """Stop the threads and the workers; queued jobs that did not start are cancelled."""
        if self._closed:
            return
        self._closed = True
        while True:
            try:
                _, future = self._queue.get_nowait()
                future.cancel()
            except queue.Empty:
                break
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join(timeout=30)
        for worker in self.workers:
            worker.close()

    def __enter__(self) -> VerifierPool:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


_pools: dict[tuple[str, ...], VerifierPool] = {}
_pools_lock = threading.Lock()


def get_pool(spec: str = "auto") -> VerifierPool:
    """The process-wide pool for a device spec (created on first use, closed at exit)."""
    devices = tuple(devices_from_spec(spec))
    with _pools_lock:
        pool = _pools.get(devices)
        if pool is None or pool._closed:
            pool = _pools[devices] = VerifierPool(list(devices))
        return pool


@atexit.register
def shutdown_pools() -> None:
    """Close every process-wide pool (runs at interpreter exit)."""
    with _pools_lock:
        pools = list(_pools.values())
        _pools.clear()
    for pool in pools:
        pool.close()
