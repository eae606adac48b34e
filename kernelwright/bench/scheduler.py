"""Bench jobs and how they run: one bench worker per device, locally or through Ray.

Local (`localpool.LocalPool`): one worker process per device (spawned with CUDA_VISIBLE_DEVICES
set to its one GPU). Ray (`raypool.RayPool`): one actor per GPU of the cluster (num_gpus=1,
device from `ray.get_gpu_ids()`). Either way `execute` runs a job inside the worker and returns
a plain-JSON payload; the coordinator is the only writer of the store. Inside a worker,
the verifier pool gives its GPU `KERNELWRIGHT_WORKERS_PER_GPU` verifier workers (2 by default), so
compiles and correctness checks overlap with timing, which has the GPU alone (`verifier/gate.py`).
"""
from __future__ import annotations

import inspect
import os
import time
import traceback
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any, Callable


DEFAULT_RUN_FN = "kernelwright.run:run_graph"


@dataclass
class Job:
    """One problem to run: where it is, which run function, and its keyword options."""

    key: str
    path: str
    run_fn: str = DEFAULT_RUN_FN
    options: dict[str, Any] = field(default_factory=dict)  # budget_s, iterations, coder, run_id, artifacts_dir
    timeout_s: float | None = None  # hard limit for the whole run (worker is killed past it)
    crashes: int = 0                # worker deaths while this job was in flight


OnStart = Callable[[Job, str], None]            # job, worker label
OnDone = Callable[[Job, dict[str, Any]], None]  # job, payload


def resolve_run_fn(spec: str) -> Callable[..., Any]:
    module, _, attr = spec.partition(":")
    if not module or not attr:
        raise ValueError(f"run function {spec!r} must look like 'package.module:function'")
    return getattr(import_module(module), attr)


def takes_verifier(fn: Callable[..., Any]) -> bool:
    """Whether `fn` accepts a `verifier=` keyword (run_graph does, through its context options)."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == "verifier" or p.kind is inspect.Parameter.VAR_KEYWORD for p in params)


def execute(job: Job, device: str, worker: str) -> dict[str, Any]:
    """Run one job in this process and return a JSON-able payload (never raises).

    The payload's "verify" holds the run's verification spans (see `verifyclock`)."""
    from kernelwright.bench.verifyclock import VerifyClock

    started = time.time()
    base = {"device": device, "worker": worker, "pid": os.getpid(), "started_at": started}
    clock = VerifyClock()
    try:
        run_fn = resolve_run_fn(job.run_fn)
        options = dict(job.options)
        if takes_verifier(run_fn):
            options["verifier"] = clock.wrap(options.get("verifier"))
        result = run_fn(job.path, device=device, **options)
        data = result.model_dump(mode="json") if hasattr(result, "model_dump") else dict(result)
        return {**base, "ok": True, "result": data, "verify": clock.payload(), "finished_at": time.time()}
    except BaseException as exc:  # noqa: BLE001 - the bench goes on; the error is recorded
        if isinstance(exc, KeyboardInterrupt):
            raise
        line = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}".strip()
        return {**base, "ok": False, "error": line, "trace": traceback.format_exc()[-4000:],
                "verify": clock.payload(), "finished_at": time.time()}


def error_payload(job: Job, worker: str, message: str, started: float) -> dict[str, Any]:
    return {"ok": False, "error": message, "worker": worker, "device": "", "started_at": started, "finished_at": time.time()}


def make_pool(devices: str, ray: str | None = None, ray_init: dict[str, Any] | None = None,
              mode: str = "process", runs_per_device: int = 1) -> tuple[Any, list[str], list[str] | None]:
    """(pool, slot labels, physical GPU indices or None) for a local device spec or a Ray address."""
    if ray:
        from kernelwright.bench.devices import visible_gpus
        from kernelwright.bench.raypool import RayPool

        return RayPool(ray, ray_init), [f"ray:{ray}"], _nvml_indices(visible_gpus() or [])
    from kernelwright.bench.devices import resolve_devices
    from kernelwright.bench.localpool import LocalPool

    slots = resolve_devices(devices)
    gpus = [d.env["CUDA_VISIBLE_DEVICES"] for d in slots if "CUDA_VISIBLE_DEVICES" in d.env]
    return LocalPool(slots, mode=mode, runs_per_device=runs_per_device), [d.label for d in slots], _nvml_indices(gpus)


def _nvml_indices(entries: list[str]) -> list[str] | None:
    """GPU numbers for the busy sampler; None (sample every GPU) when empty or given as UUIDs."""
    return entries if entries and all(e.isdigit() for e in entries) else None
