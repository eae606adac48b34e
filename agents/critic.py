"""Node `critique`: turn the iteration's verdicts, timings and profiles into feedback and a hint.

Feedback is concise text per attempt (compiler log tail, where and by how much numerics are off,
timing and profile diagnosis) that the planner hands to the next coder together with the parent
attempt. The hint names the strategy the critic suggests; the planner uses it when it applies.
The critic also records whether the run must stop (budget spent, target met, coder gave up).
"""
from __future__ import annotations

import time
from typing import Any

from langgraph.config import get_stream_writer
from langgraph.runtime import Runtime

from kernelwright.agents.failed_line import failing_lines
from kernelwright.graph.context import Context, context_of
from kernelwright.graph.routing import stop_reason
from kernelwright.graph.state import State
from kernelwright.graph.strategies import History
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


def feedback_for(attempt: dict[str, Any]) -> str:
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


def _hint(history: History, improved: bool, last_strategy: str | None) -> str | None:
    if history.best is None:
        return None  # the planner's priorities pick the matching fix_* strategy
    bound = history.bound()
    cycle = ([f"optimise_{bound}"] if bound else []) + ["tune_launch_config", "refine_best"]
    if improved or last_strategy not in cycle:
        return cycle[0]
    return cycle[(cycle.index(last_strategy) + 1) % len(cycle)]


def critique(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    """Feedback per attempt of this iteration, a strategy hint, the stall count and the stop decision."""
    ctx = context_of(runtime)
    iteration = int(state.get("iteration") or 0)
    attempts = list(state.get("attempts") or [])
    this_round = [a for a in attempts if a.get("iteration") == iteration]
    best = state.get("best")
    improved = bool(best) and any(a["id"] == best["attempt"] for a in this_round)
    stall = 0 if improved else int(state.get("stall") or 0) + 1
    feedback = {str(a["id"]): feedback_for(a) for a in this_round}
    if best:
        feedback.setdefault(str(best["attempt"]), f"Best so far is attempt {best['attempt']}.")
    feedback[""] = "\n".join(feedback[str(a["id"])] for a in this_round)[:4000]
    plan = state.get("plan") or {}
    history = History.from_state({**state, "stall": stall}, ctx.stall_limit)
    elapsed = time.time() - float(state.get("started_at") or time.time()) - ctx.paused_s
    update = {"feedback": feedback, "hint": _hint(history, improved, plan.get("strategy")),
              "stall": stall, "elapsed_s": elapsed}
    reason, error = stop_reason({**state, **update}, this_round, ctx)
    update["stop_reason"] = reason
    if error:
        update["error"] = error
    best_speedup = best.get("speedup_eager") if best else None
    get_stream_writer()({
        "event": "iteration", "iteration": iteration, "strategy": plan.get("strategy"),
        "statuses": [a.get("status") for a in this_round], "best_attempt": best["attempt"] if best else None,
        "best_speedup": best_speedup, "elapsed_s": elapsed, "budget_left_s": max(0.0, ctx.budget_s - elapsed),
        "tokens": state.get("tokens", 0), "stop_reason": reason,
    })
    return update
