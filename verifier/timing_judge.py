"""The judge's timing stage: baselines, candidate timing and the integrity checks on it.

Baselines (eager, torch.compile) are timed in the worker before the candidate is loaded and cached
per problem and shape, in the worker and in this process (shared by the GPU's workers). The candidate
is timed on >= 3 rotated input sets; one randomly chosen timed repetition per set gets fresh inputs
and its outputs, copied at its end event, are checked against the reference (`timed_output`,
sandbox/timed_probe.py); timed calls that launch no kernel fail `caching`. On CUDA the parent times
two fixed-length synchronous worker loops -- without and with the candidate -- so that the wall clock
per repetition cross-checks the event median and work left running on other streams after the end
event shows (`timing_mismatch`), and the median must not beat the speed-of-light floor
(`impossible_speed`). Only the measurements hold the GPU alone (`time_candidate`); the checks of
what they measured (`check_timing`: float64 references, comparisons) run beside other jobs.
"""
from __future__ import annotations

import functools
import secrets
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import evidence, memory, robustness, timing
from .correctness import compare
from .inputs import MODEL_SEED, make_inputs, timing_seeds
from .problem import source_sha
from .sandbox.worker import WorkerError
from .verdict import TimingStats

if TYPE_CHECKING:  # pragma: no cover
    from .judge import Judge

CS = "kernelwright.verifier.sandbox.candidate_timing:"
MAX_WALL_REPS = 100


def _common(j: Judge, base: dict[str, Any]) -> dict[str, Any]:
    opts = j.job.options
    return {"problem_source": j.problem.source, "problem_name": j.problem.name, "overrides": base,
            "seeds": timing_seeds(3), "device": j.job.local_device, "warmup_ms": opts.warmup_ms,
            "rep_ms": opts.rep_ms, "min_reps": opts.min_reps, "seed": MODEL_SEED,
            "backward_params": j.backward_params}


def _stats(report: dict[str, Any], wall_ms: float | None = None) -> TimingStats:
    return TimingStats(median_ms=report["median_ms"], mean_ms=report["mean_ms"], std_ms=report["std_ms"],
                       min_ms=report["min_ms"], max_ms=report["max_ms"], n=report["n"], wall_ms=wall_ms,
                       raw_median_ms=report.get("raw_median_ms"), event_overhead_ms=report.get("event_overhead_ms"))


def time_baselines(j: Judge, base: dict[str, Any]) -> None:
    """Eager and torch.compile times, before the candidate loads (with the GPU held alone)."""
    _baselines(j, _common(j, base))


def time_candidate(j: Judge, base: dict[str, Any]) -> dict[str, Any]:
    """The candidate's measurements that need the GPU alone: the timed calls and, on CUDA, the wall
    loops and the speed-of-light floor. `check_timing` judges them afterwards, beside other jobs."""
    common = _common(j, base)
    sample_seed = secrets.randbelow(2**31)  # the fresh inputs of the checked repetitions: not guessable
    with j.clock.part("timing.call"):
        report = j.call(CS + "time_call", {**common, "which": "candidate", "sample_seed": sample_seed},
                        timeout_s=j.deadlines.timing_s, stage="timing", compile_s=j.deadlines.compile_s)
    measured: dict[str, Any] = {"report": report, "sample_seed": sample_seed}
    if common["backward_params"] is not None:  # the forward alone stays reported beside forward + backward
        with j.clock.part("timing.forward"):
            forward_only = {**common, "which": "candidate", "backward_params": None}
            measured["forward"] = j.call(CS + "time_call", forward_only, timeout_s=j.deadlines.timing_s,
                                         stage="timing", compile_s=j.deadlines.compile_s)
    if j.device_type == "cuda":
        with j.clock.part("timing.wall"):
            measured["wall_ms"], measured["loop"] = _wall_per_rep(j, common, min(report["reps"], MAX_WALL_REPS))
        with j.clock.part("timing.floor"):
            measured["floor_ms"] = _floor_ms(j, base, common)
    return measured


def check_timing(j: Judge, base: dict[str, Any], measured: dict[str, Any]) -> None:
    """Judge `time_candidate`'s measurements: launches per call, the sampled timed outputs against
    the reference, wall clock against events, the speed-of-light floor; then record the timing."""
    report = measured["report"]
    evidence.check_process_evidence(report, j.events(), j.fired)
    if report.get("calls") and report.get("launches", 0) < report["calls"] and j.launched_before:
        j.fired.add("caching", f"{report['calls'] - report['launches']} of {report['calls']} timed calls launched "
                               f"no kernel (results reused for inputs seen before)")
    with j.clock.part("timing.outputs"):
        _check_timed_outputs(j, base, measured["sample_seed"], report.get("outputs") or [])
    stats = _stats(report)
    if measured.get("forward"):
        j.verdict.forward_timing = _stats(measured["forward"])
    if j.device_type == "cuda":
        stats.wall_ms, loop, floor = measured["wall_ms"], measured["loop"], measured["floor_ms"]
        if timing.lingering(loop):
            j.fired.add("timing_mismatch", f"work kept running on other streams after the end event in "
                                           f"{loop['lingering_reps']} of {loop['reps']} synchronous repetitions")
        if timing.wall_mismatch(stats.median_ms, stats.wall_ms):
            j.fired.add("timing_mismatch", f"events say {stats.median_ms:.4f} ms, the wall clock "
                                           f"{stats.wall_ms:.4f} ms per repetition")
        if timing.impossible(stats.median_ms, floor):
            j.fired.add("impossible_speed", f"median {stats.median_ms:.4f} ms is below 0.9 x the "
                                            f"speed-of-light floor {floor:.4f} ms")
        j.verdict.timing_meaningful = True
        j.verdict.speedups = {k: round(v.median_ms / stats.median_ms, 4) for k, v in j.verdict.baselines.items()
                              if stats.median_ms > 0}
        profile = j.verdict.profile or {}
        profile["timing"] = {"persisting_l2_reset": bool(report.get("persisting_l2_reset")), "reps": report["reps"],
                             "speed_of_light_ms": floor}
        j.verdict.profile = profile if j.job.options.profile else j.verdict.profile
    j.verdict.timing = stats


def _baselines(j: Judge, common: dict[str, Any]) -> None:
    asked = False
    for which in j.job.options.baselines:
        key = _baseline_key(j, common, which)
        if key in _BASELINES:  # timed by another worker of this GPU already
            j.verdict.baselines[which] = _BASELINES[key]
            continue
        asked = True
        try:
            report = j.worker.call(CS + "time_call", {**common, "which": which},
                                   timeout_s=j.job.options.timing_timeout_s, stage="timing")
        except WorkerError as error:  # the baseline's failure is not the candidate's
            j.logs.append(f"baseline {which} failed: {error.reason}")
            continue
        if report.get("ok"):
            j.verdict.baselines[which] = _BASELINES[key] = _stats(report)
        else:
            j.logs.append(f"baseline {which} failed: {report.get('message')}")
    if not asked:
        return
    j.worker.call(CS + "drop_reference", None, timeout_s=60, stage="timing")
    for event in j.events():  # the baselines' own (torch.compile) events are not the candidate's
        j.logs.append(f"baseline sandbox event: {event}")


# baselines this process has timed, per problem, sizes, timing options and pool device: the workers of one
# GPU share them, so a problem's eager and torch.compile times are taken once per GPU, not once per worker
_BASELINES: dict[tuple, TimingStats] = {}


def _baseline_key(j: Judge, common: dict[str, Any], which: str) -> tuple:
    opts = j.job.options
    return (source_sha(j.problem.source), repr(common["overrides"]), which, j.job.device,
            opts.warmup_ms, opts.rep_ms, opts.min_reps, common.get("backward_params") is not None)


def _check_timed_outputs(j: Judge, base: dict[str, Any], seed: int, outputs: list) -> None:
    """Check the sampled timed repetitions' outputs (all on the fresh inputs of `seed`)."""
    if not outputs:
        return
    host = make_inputs(j.problem, base, seed, device=j.input_device)
    ref = evidence.reference_outputs(j.problem, base, host, MODEL_SEED, j.ref_device)
    del host
    # eager's own error on these inputs, computed at the first miss only (robustness.eager_floor)
    floor = functools.cache(lambda: _eager_floor(j, base, seed, ref))
    for index, records in enumerate(outputs):
        stop = _check_timed_output(j, ref, index, records, floor)
        memory.free_cached(j.ref_device)
        if stop:
            return


def _eager_floor(j: Judge, base: dict[str, Any], seed: int, ref: evidence.Reference) -> list | None:
    """Per-output tolerances widened to eager's error on the timed calls' fresh inputs where eager misses too."""
    host = make_inputs(j.problem, base, seed, device=j.input_device)
    eager = evidence.eager_outputs(j.problem, base, host, MODEL_SEED, j.ref_device)
    return robustness.eager_floor(eager, ref, j.problem.metadata)


def _check_timed_output(j: Judge, ref: evidence.Reference, index: int, records: list,
                        floor: Callable[[], list | None]) -> bool:
    """Check one sampled timed repetition's outputs against the reference; True once `timed_output` fired.

    A numeric miss is judged again against eager's own error on the same inputs, as the correctness trials are."""
    j.fetch([records], ref)
    for position, (rec, expected, dtype) in enumerate(zip(records, ref.outputs, ref.dtypes)):
        out = rec.get("tensor")
        if out is None:
            if rec.get("is_tensor"):  # not fetched: its shape differs from the reference's
                j.fired.add("timed_output", f"sampled timed call {index}: output shape {rec.get('shape')} differs "
                                            f"from the reference's")
                return True
            continue
        result = compare(out, expected, ref.tolerance(position, dtype or out.dtype, j.problem.metadata))
        if not result.passed and "nan_inf" not in result.rules and (wide := floor()) and wide[position] is not None:
            result = compare(out, expected, wide[position])
        rec["tensor"] = None  # compared: free it before the next output
        if not result.passed:
            j.fired.add("timed_output", f"sampled timed call {index} (fresh inputs, output copied at its end "
                                        f"event) is wrong: {result.notes[0] if result.notes else result.rules[0]}")
            return True
    return False


def _wall_per_rep(j: Judge, common: dict[str, Any], reps: int, segments: int = 3) -> tuple[float, dict[str, Any]]:
    """Wall-clock ms per repetition (candidate loop minus null loop, the fastest of `segments`
    alternating tries of each, so that one host hiccup cannot fake a mismatch), and the candidate
    loops' report with their lingering repetitions summed."""
    walls: dict[str, list[float]] = {"null": [], "candidate": []}
    report = {"reps": 0, "lingering_reps": 0}
    for _ in range(segments):
        for which in ("null", "candidate"):
            t0 = time.perf_counter()
            done = j.call(CS + "loop", {**common, "which": which, "reps": reps},
                          timeout_s=j.deadlines.timing_s, stage="timing", compile_s=j.deadlines.compile_s)
            walls[which].append(time.perf_counter() - t0)
            if which == "candidate":
                report = {k: report[k] + int(done.get(k, 0)) for k in report}
    return max(0.0, (min(walls["candidate"]) - min(walls["null"])) * 1e3 / reps), report


def _floor_ms(j: Judge, base: dict[str, Any], common: dict[str, Any]) -> float | None:
    module = j.problem.module(base)
    if not (callable(getattr(module, "count_flops", None)) or callable(getattr(module, "count_bytes", None))):
        return None
    host = make_inputs(j.problem, base, common["seeds"][0], device=j.input_device)
    flops = float(module.count_flops(*host)) if callable(getattr(module, "count_flops", None)) else None
    nbytes = float(module.count_bytes(*host)) if callable(getattr(module, "count_bytes", None)) else None
    peaks = j.call(CS + "peaks", {"device": common["device"]}, timeout_s=300, stage="timing")
    return timing.speed_of_light_ms(flops, nbytes, peaks)
