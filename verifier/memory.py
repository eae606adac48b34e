"""GPU memory of one verification: give caches back, estimate the peak, explain an out-of-memory.

The judge (this process) and the workers share one GPU, and memory that one process's caching
allocator keeps is invisible to the others; so the judge and the workers give theirs back after
each trial and each job (`free_cached`, `candidate_side.release`).

The peak is counted in full-size tensors alive at once along the judge's code path (`Footprint`):

    correctness, reference  originals + float64 inputs + float64 outputs + 2 worker outputs
    correctness, fetch      originals + float64 outputs + 2 fetched + 2 worker outputs
    timing                  3 worker input sets + 1 fresh set + 3 copies of sampled timed outputs
                            + inputs + float64 inputs + float64 outputs (checking one against its reference)

plus the weights three times (reference, its float64 copy, the candidate's). Comparisons walk
tensors in pieces (`chunks`), so they add no full-size term. A problem whose peak exceeds the
GPU's free memory is refused before any candidate code runs, with one line saying by how much.
"""
from __future__ import annotations

import gc
import re
from dataclasses import dataclass
from typing import Any

import torch

from .correctness import flatten
from .problem import Problem

GB = 1e9
FLAG = "gpu_memory"  # advisory flag of a verdict decided by the GPU's memory, not by the candidate
_OOM = re.compile(r"out of memory|OutOfMemoryError", re.IGNORECASE)
_ASKED = re.compile(r"Tried to allocate ([\d.]+ [KMGT]iB)")
_FREE = re.compile(r"of which ([\d.]+ [KMGT]iB) is free")


def free_cached(device: str, collect: bool = False) -> None:
    """Give this process's cached, unused GPU memory back to the driver (and reclaim memory the
    workers no longer map); `collect` first frees unreachable cycles. No-op on the CPU."""
    if device == "cpu" or not torch.cuda.is_available() or not torch.cuda.is_initialized():
        return
    if collect:
        gc.collect()
    torch.cuda.ipc_collect()
    torch.cuda.empty_cache()


def _nbytes(items: list, as_float64: bool = False) -> int:
    total = 0
    for x in items:
        if isinstance(x, torch.Tensor):
            size = 8 if as_float64 and x.dtype.is_floating_point else x.element_size()
            total += x.numel() * size
    return total


@dataclass(frozen=True)
class Footprint:
    """Bytes of one trial's tensors at the verified sizes (see the module docstring)."""

    inputs: int
    inputs64: int
    outputs: int
    outputs64: int
    weights: int = 0

    def peak(self, timing: bool = True) -> int:
        """Estimated peak GPU bytes of one verification, judge and worker together."""
        reference = self.inputs + self.inputs64 + self.outputs64 + 2 * self.outputs
        fetch = self.inputs + self.outputs64 + 4 * self.outputs
        timed = 5 * self.inputs + 3 * self.outputs + self.inputs64 + self.outputs64 if timing else 0
        return max(reference, fetch, timed) + 3 * self.weights

    def describe(self) -> str:
        return f"inputs {self.inputs / GB:.1f} GB, outputs {self.outputs / GB:.1f} GB, float64 reference"


def footprint(problem: Problem, overrides: dict[str, Any]) -> Footprint | None:
    """The problem's footprint from a run on the meta device (no memory); None if it cannot run there."""
    try:
        module = problem.module(overrides)
        with torch.device("meta"):
            inputs = list(module.get_inputs())
            model = module.Model(*module.get_init_inputs())
        with torch.no_grad():
            outputs = flatten(model(*inputs))
        weights = _nbytes(list(model.state_dict().values())) if isinstance(model, torch.nn.Module) else 0
    except Exception:  # noqa: BLE001 - no meta kernel, or a problem that builds on real data only
        return None
    return Footprint(_nbytes(inputs), _nbytes(inputs, True), _nbytes(outputs), _nbytes(outputs, True), weights)


def does_not_fit(found: Footprint | None, free_bytes: int, total_bytes: int, timing: bool = True) -> str:
    """Why the verification cannot fit in `free_bytes` (one line), or "" when it fits or is unknown."""
    if found is None:
        return ""
    needs = found.peak(timing)
    if needs <= free_bytes:
        return ""
    return (f"does not fit in GPU memory: verifying at these sizes needs ~{needs / GB:.1f} GB "
            f"({found.describe()}), the GPU has {free_bytes / GB:.1f} GB free of {total_bytes / GB:.1f} GB")


def is_out_of_memory(message: str) -> bool:
    return bool(_OOM.search(message or ""))


def explain(message: str, where: str) -> str:
    """One line for an out-of-memory at `where`: what was asked and what was free, when known."""
    asked, free = _ASKED.search(message or ""), _FREE.search(message or "")
    detail = f" (tried to allocate {asked.group(1)}, {free.group(1)} free)" if asked and free else ""
    return f"{where}: out of GPU memory{detail}"
