"""The judge's correctness trials: one trial's inputs, the candidate's run, the reference and the checks.

`run_trial(j, spec, ...)` runs one planned trial (random, extra shape, scaled / shifted robustness)
for the Judge `j` and records its TrialResult and every rule it fires on `j`; its tensors live only
as long as the call.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch

from . import backward, evidence, robustness
from . import inputs as inputs_mod
from .inputs import MODEL_SEED
from .rules import ANTICHEAT_RULES
from .sandbox import transport
from .verdict import TrialResult

if TYPE_CHECKING:
    from .judge import Judge

NUMERIC_RULES = {"values_mismatch", "rel_norm"}  # misses of the tolerance alone, which eager's own error may excuse


def run_trial(j: Judge, spec: inputs_mod.TrialSpec, seen: dict[str, int], sizes: dict[str, list[int]]) -> None:
    """One correctness trial; its tensors live only as long as this call."""
    refusable = spec.kind == "extra_shape"  # an explicit refusal there is `specialized`, not a failure
    if repr(inputs_mod.make_init_inputs(j.problem, spec.overrides)) != j.loaded_init:
        with j.clock.part("correctness.reload"):
            loaded = j.load(spec.overrides, refusable=refusable)
        if not loaded:
            _specialized(j, spec, j.refusal)
            return
    with j.clock.part("correctness.inputs"):
        host = inputs_mod.make_inputs(j.problem, spec.overrides, spec.seed, spec.scale, device=j.input_device,
                                      shift=spec.shift)
        originals = [x.clone() if isinstance(x, torch.Tensor) else x for x in host]
    ref, tolerances, note = None, None, ""
    if spec.kind in robustness.KINDS:  # eager's own error sets the bar; the worker never sees these
        with j.clock.part("correctness.reference"):
            ref = evidence.reference_outputs(j.problem, spec.overrides, originals, MODEL_SEED, j.ref_device)
            eager = evidence.eager_outputs(j.problem, spec.overrides, originals, MODEL_SEED, j.ref_device)
            grads = 0 if j.backward_params is None else backward.gradient_count(originals, j.backward_params)
            n_out = len(ref.outputs) - grads  # gradients: see robustness.UNJUDGED
            bar = robustness.judge_against_eager(eager[:n_out], ref.outputs[:n_out], ref.dtypes[:n_out],
                                                 robustness.trial_metadata(spec.kind, j.problem.metadata))
            del eager
        if bar.skipped:
            _record_skipped(j, spec, bar.skipped, originals)
            return
        tolerances = bar.tolerances + [robustness.UNJUDGED] * (len(ref.outputs) - n_out)
        if n_out < len(ref.outputs):
            note = "gradients checked for shape, dtype and finiteness only at this trial"
    repeat = 2 if spec.trial == 0 or spec.kind == "extra_shape" else 1
    payload = {"inputs": transport.share_all(host), "repeat": repeat,
               "poison_sizes": sizes.get(spec.shape_key, []),
               "profile_kernels": j.device_type == "cuda" and spec.trial == 0, "backward_params": j.backward_params}
    with j.clock.part("correctness.candidate"):
        report = j.call("run", payload, timeout_s=j.deadlines.run_s * repeat, stage="correctness",
                        refusable=refusable, compile_s=j.deadlines.compile_s)
    if report.get("ok") is False:
        _specialized(j, spec, report)
        return
    evidence.check_process_evidence(report, j.events(), j.fired)
    runs = report["runs"]
    # on a GPU the candidate ran on `host` itself: what it changed is visible here
    changed = evidence.inputs_changed(originals, host if j.device_type == "cuda" else runs[0]["inputs_after"])
    del host
    if ref is None:
        with j.clock.part("correctness.reference"):
            ref = evidence.reference_outputs(j.problem, spec.overrides, originals, MODEL_SEED, j.ref_device)
    with j.clock.part("correctness.fetch"):
        j.fetch([run["outputs"] for run in runs], ref)
    trial_fired = evidence.Fired()
    for run in runs:
        if not run["launches"] and j.launched_before:
            j.fired.add("caching", f"trial {spec.trial}: kernels ran on an earlier call but none on "
                                      f"this one (a result reused across calls)")
        j.launched_before = j.launched_before or bool(run["launches"])
        evidence.check_run_evidence(run, j.device_type, j.fired)
        j.verdict.pytorch_ops = sorted(set(j.verdict.pytorch_ops) | set(run.get("compute_ops") or []))
        if (share := evidence.own_time_share(run)) is not None:
            j.verdict.own_gpu_share = round(share, 4)
    metadata = j.problem.metadata
    if spec.kind in robustness.KINDS:
        metadata = robustness.trial_metadata(spec.kind, metadata)
    with j.clock.part("correctness.compare"):
        comparison = evidence.check_outputs(runs[0]["outputs"], ref, metadata, j.device_type, trial_fired,
                                            tolerances)
    if tolerances is None and trial_fired and set(trial_fired.rules) <= NUMERIC_RULES:
        comparison, trial_fired, note = _against_eager(j, spec, runs[0]["outputs"], ref, originals, comparison,
                                                       trial_fired)
    if changed:
        trial_fired.add("inputs_modified", f"inputs {changed} changed during the call")
    if len(runs) > 1 and evidence.runs_differ(runs[0]["outputs"], runs[1]["outputs"], j.problem.metadata):
        trial_fired.add("nondeterministic", "two runs on the same inputs gave different outputs")
    sizes[spec.shape_key] = evidence.output_nbytes(runs[0]["outputs"])
    print_ = evidence.fingerprint(runs[0]["outputs"])
    if trial_fired and print_ in seen:
        j.fired.add("caching", f"trial {spec.trial} returned the output of trial {seen[print_]} "
                                  f"for different inputs")
    seen.setdefault(print_, spec.trial)
    _record_trial(j, spec, comparison, trial_fired, originals, note)
    anticheat = any(r in ANTICHEAT_RULES and r not in j.relaxed for r in j.fired.rules)
    j.decide_if_fired("anticheat" if anticheat else "correctness")


def _against_eager(j: Judge, spec: inputs_mod.TrialSpec, outputs: list, ref: Any, originals: list,
                   comparison: Any, fired: evidence.Fired) -> tuple[Any, evidence.Fired, str]:
    """A numeric miss judged again where eager PyTorch misses the ordinary tolerance too (robustness.eager_floor)."""
    eager = evidence.eager_outputs(j.problem, spec.overrides, originals, MODEL_SEED, j.ref_device)
    floor = robustness.eager_floor(eager, ref, j.problem.metadata)
    del eager
    if floor is None:
        return comparison, fired, ""
    again = evidence.Fired()
    comparison = evidence.check_outputs(outputs, ref, j.problem.metadata, j.device_type, again, floor)
    return comparison, again, (f"eager misses the ordinary tolerance on these inputs: judged against "
                               f"{robustness.ERROR_FACTOR:g}x eager's error")


def _record_trial(j: Judge, spec: inputs_mod.TrialSpec, comparison: Any, trial_fired: evidence.Fired,
                  host: list, note: str = "") -> None:
    j.verdict.trials.append(TrialResult(
        trial=spec.trial, kind=spec.kind, shape=_shapes(host), max_abs_err=comparison.max_abs_err,
        max_rel_err=comparison.max_rel_err, rel_norm_err=comparison.rel_norm_err,
        mismatched=comparison.mismatched, passed=not trial_fired,
        note="; ".join([*(trial_fired.messages[r] for r in trial_fired.rules), *filter(None, [note])])[:500]))
    if not trial_fired:
        return
    if spec.kind in ("extra_shape", *robustness.KINDS):
        inner = trial_fired.rules[0]
        j.fired.add(spec.kind, f"{spec.kind.replace('_', ' ')} trial ({spec.describe()}): "
                                  f"{trial_fired.messages[inner]}")
    for rule in trial_fired.rules:
        j.fired.add(rule, f"trial {spec.trial} ({spec.kind}): {trial_fired.messages[rule]}")

def _record_skipped(j: Judge, spec: inputs_mod.TrialSpec, reason: str, host: list) -> None:
    """A robustness trial not judged because eager itself fails on its inputs; the record says why."""
    j.verdict.trials.append(TrialResult(trial=spec.trial, kind=spec.kind, shape=_shapes(host), passed=True,
                                           skipped=True, note=f"{spec.describe()}: {reason}"[:500]))

def _specialized(j: Judge, spec: inputs_mod.TrialSpec, failure: dict[str, Any]) -> None:
    """The candidate refused a perturbed shape with an explicit error: flagged, not rejected."""
    note = f"specialized: refused {spec.describe()} with {failure.get('message', '')}"[:500]
    j.verdict.trials.append(TrialResult(trial=spec.trial, kind=spec.kind, passed=False, skipped=True, note=note))
    if "specialized" not in j.advisories:
        j.advisories.append("specialized")


def _shapes(host: list) -> str:
    return "x".join(str(tuple(x.shape)) for x in host if isinstance(x, torch.Tensor))
