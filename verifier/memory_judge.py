"""The judge's side of GPU memory: promise each job its peak, refuse what cannot fit, explain an
out-of-memory, release the worker.

A problem whose verification cannot fit in the GPU's free memory is refused before any candidate
code runs (runtime_error at load, flag `gpu_memory`, one line with the estimate: `memory.Footprint`);
an out-of-memory in this process becomes such a verdict too, not a raw trace. After each job the
worker drops that job's tensors and caches (`candidate_side.release`), or is restarted if it holds on.
"""
from __future__ import annotations

import threading
import time
import traceback
from typing import TYPE_CHECKING, Any

import torch

from . import memory
from .budget import BudgetedGate
from .gate import DeviceGate, GateTimeout
from .sandbox.worker import WorkerError
from .verdict import Verdict

if TYPE_CHECKING:  # pragma: no cover
    from .judge import Judge

RELEASE = "kernelwright.verifier.sandbox.candidate_side:release"
RELEASE_LIMIT = 1 << 30  # a worker still reserving more GPU memory than this after `release` is restarted


class Promises:
    """GPU bytes promised to the verifications in flight in this process, per device (the workers of
    a GPU share one judging process). A job goes on once its peak fits in the free memory less what
    the other jobs were promised; memory they already use is counted twice, so the rule errs towards
    waiting, never towards two jobs that cannot both fit."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self._bytes: dict[tuple[str, int], int] = {}

    def others(self, device: str) -> int:
        return sum(n for (d, _), n in self._bytes.items() if d == device)

    def promise(self, device: str, key: int, nbytes: int) -> None:
        self._bytes[(device, key)] = nbytes

    def withdraw(self, key: int) -> None:
        with self.cond:
            for held in [k for k in self._bytes if k[1] == key]:
                del self._bytes[held]
            self.cond.notify_all()


PROMISES = Promises()


def check_memory(j: Judge, base: dict[str, Any], gate: DeviceGate | BudgetedGate) -> None:
    """On a GPU: promise this job its estimated peak, waiting while other jobs of this process hold
    promises it does not fit beside (at most until the verification's deadline: GateTimeout). Alone,
    raise Decided (runtime_error at load) when it cannot fit in free memory, measured again with the
    GPU's gate held alone when the first look finds too little (a job of unknown footprint may be
    mid-stage). `withdraw(j)` gives the promise back when the job ends."""
    if j.device_type != "cuda" or not torch.cuda.is_available():
        return
    from .judge import Decided

    j.footprint = memory.footprint(j.problem, base)
    if j.footprint is None:  # unknown: nothing to promise or refuse
        return
    timing = j.job.options.timing

    def why_not(collect: bool, promised: int = 0) -> str:
        memory.free_cached(j.ref_device, collect=collect)
        free, total = torch.cuda.mem_get_info(j.ref_device)
        return memory.does_not_fit(j.footprint, free - promised, total, timing)

    ends = time.monotonic() + j.budget.left()
    with PROMISES.cond:
        while promised := PROMISES.others(j.ref_device):
            if not why_not(False, promised):
                break
            if not PROMISES.cond.wait(max(0.0, ends - time.monotonic())):
                raise GateTimeout(f"{j.budget.reason()} while waiting for GPU memory promised to other jobs",
                                  stage="load")
        else:  # alone; a full collection holds every judging thread: only when short of memory
            reason = why_not(False)
            if reason:
                with gate.exclusive(j.verdict.durations):
                    reason = why_not(True)
            if reason:
                j.advisories.append(memory.FLAG)
                raise Decided(j._finish("runtime_error", "load", reason))
        PROMISES.promise(j.ref_device, id(j), j.footprint.peak(timing))


def withdraw(j: Judge) -> None:
    """Give back the memory `check_memory` promised to this job (if any)."""
    PROMISES.withdraw(id(j))


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
