"""The critic's words: plain feedback on one attempt for the coder that repairs or refines it.

Concise text per attempt: compiler log tail, where and by how much numerics are off, the rule a
rejected kernel broke, timing and profile diagnosis. The `critique` node (graph/nodes/) adds the
strategy hint and the stop decision.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kernelwright.agents.failed_line import failing_lines
from kernelwright.verifier.rules import ALL_RULES


def _trial_text(trial: dict[str, Any] | None) -> str:
    if not trial:
        return ""
    parts = [f"{trial.get('kind', 'random')} trial {trial.get('trial')}"]
    if trial.get("shape"):
        parts.append(f"shape {trial['shape']}")
    for key, label in (("max_abs_err", "max abs error"), ("max_rel_err", "max rel error"),
                       ("rel_norm_err", "relative norm error")):
        if trial.get(key) is not None:
            parts.append(f"{label} {trial[key]:.3g}")
    if trial.get("mismatched"):
        parts.append(f"{trial['mismatched']} elements out of tolerance")
    if trial.get("note"):
        parts.append(str(trial["note"]))
    return "; ".join(parts)


def feedback_for(attempt: Mapping[str, Any]) -> str:
    """Plain-words feedback on one attempt (with the kernel's lines the verdict names), for the next coder."""
    text = _feedback_text(attempt)
    if attempt.get("status") in ("compile_error", "runtime_error", "timeout", "incorrect", "rejected"):
        quoted = failing_lines(attempt)
        if quoted:
            text = f"{text}\n{quoted}"
    return text


def _feedback_text(attempt: dict[str, Any]) -> str:
    status = attempt.get("status")
    v = attempt.get("verdict") or {}
    if status == "coder_error":
        return f"Attempt {attempt['id']} produced no code: {attempt.get('error')}"
    if status == "exhausted":
        return f"Attempt {attempt['id']} produced no code: {attempt.get('summary')}"
    head = f"Attempt {attempt['id']} ({attempt.get('strategy')}): {status} at stage {v.get('stage')}."
    if status in ("compile_error", "runtime_error", "timeout"):
        text = f"{head} {v.get('message', '')}"
        if v.get("logs"):
            text += f"\nLog (tail):\n{v['logs'][-1500:]}"
        return text
    if status == "incorrect":
        return (f"{head} Rule {v.get('rule')}: {ALL_RULES.get(v.get('rule') or '', '')}. {v.get('message', '')}"
                f"\nWorst trial: {_trial_text(v.get('worst_trial'))}").strip()
    if status == "rejected":
        return (f"{head} The verifier rejected it under rule {v.get('rule')}: "
                f"{ALL_RULES.get(v.get('rule') or '', '')}. {v.get('message', '')}").strip()
    text = f"{head} Correct."
    if v.get("timing_meaningful") and v.get("median_ms") is not None:
        speed = ", ".join(f"{k} {s:.2f}x" for k, s in (v.get("speedups") or {}).items())
        text += f" Median {v['median_ms']:.4f} ms ({speed or 'no baseline'})."
    else:
        text += " Timing not meaningful on this device (CPU interpreter)."
    if v.get("diagnosis"):
        text += f" Profile: {v['diagnosis']}"
    return text
