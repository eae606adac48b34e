"""Where bench jobs run: one bench worker per device, locally or through Ray.

Local (`localpool.LocalPool`): one worker process per device (spawned with CUDA_VISIBLE_DEVICES
set to its one GPU). Ray (`raypool.RayPool`): one actor per GPU of the cluster (num_gpus=1,
device from `ray.get_gpu_ids()`). Either way `execute` runs a job inside the worker and returns
a plain-JSON payload; the coordinator is the only writer of the store. Inside a worker,
the verifier pool gives its GPU `KERNELWRIGHT_WORKERS_PER_GPU` verifier workers (4 by default), so
compiles and correctness checks overlap with timing, which has the GPU alone (`verifier/gate.py`).
"""
from __future__ import annotations

from typing import Any

from kernelwright.bench.devices import resolve_devices, visible_gpus
from kernelwright.bench.localpool import LocalPool
from kernelwright.bench.raypool import RayPool


def make_pool(devices: str, ray: str | None = None, ray_init: dict[str, Any] | None = None,
              mode: str = "process", runs_per_device: int = 1) -> tuple[Any, list[str], list[str] | None]:
    """(pool, slot labels, physical GPU indices or None) for a local device spec or a Ray address."""
    if ray:
        return RayPool(ray, ray_init), [f"ray:{ray}"], _nvml_indices(visible_gpus() or [])
    slots = resolve_devices(devices)
    gpus = [d.env["CUDA_VISIBLE_DEVICES"] for d in slots if "CUDA_VISIBLE_DEVICES" in d.env]
    return LocalPool(slots, mode=mode, runs_per_device=runs_per_device), [d.label for d in slots], _nvml_indices(gpus)


def _nvml_indices(entries: list[str]) -> list[str] | None:
    """GPU numbers for the busy sampler; None (sample every GPU) when empty or given as UUIDs."""
    return entries if entries and all(e.isdigit() for e in entries) else None
