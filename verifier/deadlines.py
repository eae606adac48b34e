"""Deadlines of the worker calls, derived from the reference's measured time, with a floor.

    run_s      one correctness call, per repetition: max(floor, factor x reference seconds)
    timing_s   one timing call: max(floor, factor x reference seconds x TIMING_CALLS)
               + the warm-up and repetition budgets (3 input sets, twice over)
    compile_s  GPU only: extra time until the call's first kernel launch returns (JIT compiles);
               each launch that returns restarts the call's own deadline (`Worker.call`)

Each is capped by the fixed limit it replaces (`run_timeout_s`, `timing_timeout_s`). The floor is
`deadline_floor_s`, else 10 s on a GPU and 60 s on the CPU, where the Triton interpreter runs
kernels hundreds of times slower than eager PyTorch and compiles nothing. The reference is timed
once per problem, shape and device in this process (eager, native dtype, after one warm-up call).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import torch

from .inputs import MODEL_SEED, make_inputs
from .options import VerifyOptions
from .problem import Problem, source_sha
from .reference_model import own_copy

GPU_FLOOR_S = 10.0
CPU_FLOOR_S = 60.0
TIMING_CALLS = 45  # candidate calls in one timing call, about: 3 input sets x (min_reps + warm-up)
_MEASURED: dict[tuple[str, str, str], float] = {}


@dataclass(frozen=True)
class Deadlines:
    reference_s: float
    run_s: float
    timing_s: float
    compile_s: float


def derive(options: VerifyOptions, reference_s: float, device_type: str) -> Deadlines:
    """The deadlines of one verification from the reference's seconds per call."""
    floor = options.deadline_floor_s if options.deadline_floor_s is not None else (
        GPU_FLOOR_S if device_type == "cuda" else CPU_FLOOR_S)
    per_call = options.deadline_factor * reference_s
    budgets_s = 6 * (options.warmup_ms + options.rep_ms) / 1000
    return Deadlines(
        reference_s=reference_s,
        run_s=min(options.run_timeout_s, max(floor, per_call)),
        timing_s=min(options.timing_timeout_s, max(floor, per_call * TIMING_CALLS) + budgets_s),
        compile_s=options.compile_timeout_s if device_type == "cuda" else 0.0,
    )


EVIDENCE_FLOOR_S = 5.0  # a trial that only gathers evidence for a verdict the static checks already decided
EVIDENCE_FACTOR = 50.0


def for_evidence(found: Deadlines) -> Deadlines:
    """Deadlines of a verification whose verdict a static finding already decides: its one trial only
    adds evidence, so it gets seconds (50 x the reference, at least 5 s, never more than before), and
    a hang ends it with the static rule, not a timeout."""
    run_s = min(found.run_s, max(EVIDENCE_FLOOR_S, EVIDENCE_FACTOR * found.reference_s))
    return Deadlines(reference_s=found.reference_s, run_s=run_s, timing_s=found.timing_s, compile_s=found.compile_s)


def reference_seconds(problem: Problem, overrides: dict[str, Any], device: str) -> float:
    """Median seconds of three eager calls of the reference (after a warm-up call); cached."""
    key = (source_sha(problem.source), repr(sorted(overrides.items())), device)
    if key not in _MEASURED:
        _MEASURED[key] = _measure(problem, overrides, device)
    return _MEASURED[key]


def _measure(problem: Problem, overrides: dict[str, Any], device: str) -> float:
    model = own_copy(problem, overrides, MODEL_SEED).to(device)
    inputs = make_inputs(problem, overrides, MODEL_SEED, device=device if device != "cpu" else None)
    inputs = [x.to(device) if isinstance(x, torch.Tensor) else x for x in inputs]
    cuda = device.startswith("cuda")
    times = []
    with torch.no_grad():
        for _ in range(4):
            began = time.perf_counter()
            model(*inputs)
            if cuda:
                torch.cuda.synchronize(device)
            times.append(time.perf_counter() - began)
    return sorted(times[1:])[1]
