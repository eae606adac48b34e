"""Digest and compare verdicts: the compact record the critic and planner read, and which kernel is better."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kernelwright.verifier.verdict import Verdict


def digest(verdict: Verdict) -> dict[str, Any]:
    """The compact verdict kept in state for the critic and planner."""
    failing = [t for t in verdict.trials if not t.passed]
    worst = max(failing or verdict.trials, key=lambda t: t.max_abs_err or 0.0, default=None)
    profile = verdict.profile or {}
    return {
        "status": verdict.status, "stage": verdict.stage, "message": verdict.message[:2000],
        "rule": verdict.rule, "flags": list(verdict.flags), "logs": verdict.logs[-2000:],
        "worst_trial": worst.model_dump(mode="json") if worst is not None else None,
        "median_ms": verdict.timing.median_ms if verdict.timing else None,
        "speedups": dict(verdict.speedups), "timing_meaningful": verdict.timing_meaningful,
        "diagnosis": str(profile.get("diagnosis") or ""), "figures": dict(profile.get("figures") or {}),
    }


def is_better(attempt: Mapping[str, Any], best: Mapping[str, Any] | None) -> bool:
    """A correct attempt beats no best, an unmeasured best, or a slower measured best."""
    if attempt.get("status") != "correct":
        return False
    if best is None:
        return True
    if not attempt.get("timing_meaningful") or attempt.get("median_ms") is None:
        return False
    if not best.get("timing_meaningful") or best.get("median_ms") is None:
        return True
    return attempt["median_ms"] < best["median_ms"]
