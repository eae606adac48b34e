"""Timing in the sandboxed worker: rotated input sets, baselines, fixed loops for the wall check.

Baselines (eager, torch.compile) are timed before the candidate loads and their statistics are
cached per problem and shape for the worker's life; the reference model and the input sets are
dropped before the candidate loads. Shares the worker state (`candidate_side.STATE`)
with the correctness calls.
"""
from __future__ import annotations

import gc
from contextlib import nullcontext
from typing import Any

import torch

from .. import backward, timing
from .. import inputs as inputs_mod
from ..problem import Problem
from .candidate_side import (
    STATE,
    allow_candidate,
    classify,
    evidence_since_load,
    failure_report,
    is_sticky,
    launch_tracker,
    record_outputs,
)
from .timed_probe import TimedProbe


def _input_sets(payload: dict[str, Any]) -> list[list]:
    key = (payload["problem_source"], repr(sorted(payload.get("overrides", {}).items())), tuple(payload["seeds"]))
    if key not in STATE.sets:
        problem = Problem(name=payload.get("problem_name", "problem"), source=payload["problem_source"])
        STATE.sets = {key: [inputs_mod.make_inputs(problem, payload.get("overrides", {}), seed,
                                                   device=payload["device"])
                         for seed in payload["seeds"]]}
    return STATE.sets[key]


def _callable_for(payload: dict[str, Any]) -> Any:
    which = payload["which"]
    names = payload.get("backward_params")  # a BACKWARD problem: forward + backward is the timed call
    if which == "candidate":
        model = STATE.model if names is None else backward.WithGradients(STATE.model, names,
                                                                          harness=launch_tracker().paused)
        return lambda xs: model(*xs)
    key = (payload["problem_source"], repr(sorted(payload.get("overrides", {}).items())), which, names is not None)
    if key not in STATE.baselines:
        problem = Problem(name="reference", source=payload["problem_source"])
        module = problem.module(payload.get("overrides", {}))
        inputs_mod.seed_all(payload.get("seed", 0))
        ref = module.Model(*module.get_init_inputs()).to(payload["device"])
        if which == "compile":
            with allow_candidate():
                ref = torch.compile(ref)
        STATE.baselines = {key: ref if names is None else backward.WithGradients(ref)}  # one reference at a time
    ref = STATE.baselines[key]
    return lambda xs: ref(*xs)


def time_call(payload: dict[str, Any]) -> dict[str, Any]:
    """Time `which` (candidate | eager | compile) on rotated input sets; CUDA events or wall clock."""
    which = payload["which"]
    stats_key = (payload["problem_source"], repr(sorted(payload.get("overrides", {}).items())), which,
                 payload.get("backward_params") is not None)
    if which != "candidate" and stats_key in STATE.baseline_stats:
        return STATE.baseline_stats[stats_key]
    sets = _input_sets(payload)
    fn = _callable_for(payload)
    calls = [0]
    if which == "candidate":
        inner = fn

        def fn(xs: list) -> Any:  # count calls, to compare with the kernel launches they made
            calls[0] += 1
            return inner(xs)

        launch_tracker().reset()
    cuda = torch.device(payload["device"]).type == "cuda"
    probe = _probe(payload, len(sets)) if payload.get("sample_seed") is not None else None
    try:
        with torch.no_grad(), (allow_candidate() if payload["which"] == "compile" else nullcontext()):
            if cuda:
                with timing.no_gc():
                    result = timing.time_cuda(fn, sets, warmup_ms=payload["warmup_ms"], rep_ms=payload["rep_ms"],
                                              min_reps=payload["min_reps"], probe=probe)
            else:  # every set timed once, so every set is sampled
                result = timing.time_wall(fn, sets, reps=payload.get("wall_reps", len(sets)), probe=probe)
            outputs = probe.outputs if probe is not None else []
    except Exception as exc:  # noqa: BLE001
        return failure_report(classify(exc), "timing", exc, sticky=is_sticky(str(exc)))
    if outputs:  # a call that samples no output (the forward-alone timing) keeps the earlier call's for the parent
        STATE.pending = []
    keep = STATE.pending if cuda else None
    result["outputs"] = [[record_outputs(o, keep) for o in outs] for outs in outputs]  # the parent fetches CUDA ones
    if which != "candidate":
        STATE.baseline_stats[stats_key] = {"ok": True, **result}
        return STATE.baseline_stats[stats_key]
    launched = sum(launch_tracker().launches.values())
    return {"ok": True, **result, "calls": calls[0], "launches": launched, **evidence_since_load()}


def _probe(payload: dict[str, Any], n_sets: int) -> TimedProbe:
    """The timed-call sampler, with one fresh input set from the judge's `sample_seed`."""
    problem = Problem(name=payload.get("problem_name", "problem"), source=payload["problem_source"])
    fresh = inputs_mod.make_inputs(problem, payload.get("overrides", {}), payload["sample_seed"],
                                   device=payload["device"])
    return TimedProbe(n_sets, fresh)


def loop(payload: dict[str, Any]) -> dict[str, Any]:
    """Exactly `reps` timing-loop iterations of `which` (candidate or null); the parent times this call."""
    sets = _input_sets(payload)
    fn = _callable_for(payload) if payload["which"] != "null" else (lambda xs: None)
    with torch.no_grad(), timing.no_gc():
        report = timing.time_loop_fixed(fn, sets, payload["reps"])
    return {"ok": True, **report}


def drop_reference(_payload: Any = None) -> None:
    """Free baseline models, their input sets and outputs before the candidate is loaded (when any
    was built): the correctness trials need the memory; the candidate's timing makes the sets again."""
    if not STATE.baselines and not STATE.sets:
        return
    STATE.baselines, STATE.sets = {}, {}
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def peaks(payload: dict[str, Any]) -> dict[str, float]:
    """Measured bandwidth / matmul peaks of this worker's GPU (cached for the worker's life)."""
    if STATE.peaks is None:
        STATE.peaks = timing.measure_peaks(torch.device(payload["device"]))
    return STATE.peaks
