"""The judge's side of GPU memory: refuse what cannot fit, explain an out-of-memory, release the worker.

A problem whose verification cannot fit in the GPU's free memory is refused before any candidate
code runs (runtime_error at load, flag `gpu_memory`, one line with the estimate: `memory.Footprint`);
an out-of-memory in this process becomes such a verdict too, not a raw trace. After each job the
worker drops that job's tensors and caches (`candidate_side.release`), or is restarted if it holds on.
"""
from __future__ import annotations

import traceback
from typing import TYPE_CHECKING, Any

import torch

from . import memory
from .budget import BudgetedGate
from .gate import DeviceGate
from .sandbox.worker import WorkerError
from .verdict import Verdict

if TYPE_CHECKING:  # pragma: no cover
    from .judge import Judge

RELEASE = "kernelwright.verifier.sandbox.candidate_side:release"
RELEASE_LIMIT = 1 << 30  # a worker still reserving more GPU memory than this after `release` is restarted


def check_memory(j: Judge, base: dict[str, Any], gate: DeviceGate | BudgetedGate) -> None:
    """On a GPU: raise Decided (runtime_error at load) when the verification cannot fit in free memory,
    measured again with the GPU's gate held alone when the first look finds too little (another job
    of this pool may be mid-stage)."""
    if j.device_type != "cuda" or not torch.cuda.is_available():
        return
    from .judge import Decided

    j.footprint = memory.footprint(j.problem, base)

    def why_not(collect: bool) -> str:
        memory.free_cached(j.ref_device, collect=collect)
        free, total = torch.cuda.mem_get_info(j.ref_device)
        return memory.does_not_fit(j.footprint, free, total, j.job.options.timing)

    reason = why_not(collect=False)  # a full collection holds every judging thread: only when short of memory
    if reason:
        with gate.exclusive(j.verdict.durations):
            reason = why_not(collect=True)
    if reason:
        j.advisories.append(memory.FLAG)
        raise Decided(j._finish("runtime_error", "load", reason))


def out_of_memory(j: Judge, exc: BaseException, stage: str) -> Verdict:
    """The verdict when this process (reference, comparison) ran out of GPU memory at `stage`."""
    j.logs.append(traceback.format_exc())
    message = memory.explain(f"{type(exc).__name__}: {exc}", f"{stage} (verifier side)")
    if j.footprint is not None:
        message += f"; verifying at these sizes needs ~{j.footprint.peak(j.job.options.timing) / memory.GB:.1f} GB"
    if memory.FLAG not in j.advisories:
        j.advisories.append(memory.FLAG)
    return j._finish("runtime_error", stage, message)


def release_worker(j: Judge) -> None:
    """Let the worker drop this job's tensors and caches; restart it when it still reserves memory."""
    if not getattr(j.worker, "alive", True):
        return
    try:
        report = j.worker.call(RELEASE, None, timeout_s=60, stage="done")
    except WorkerError:  # killed on the way: its memory went with it
        return
    if isinstance(report, dict) and int(report.get("reserved") or 0) > RELEASE_LIMIT:
        j.worker.restart()
