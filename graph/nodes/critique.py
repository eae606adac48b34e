"""Node `critique`: the iteration's feedback (agents/critic.py words it), a strategy hint and the stop rule.

The planner hands each attempt's feedback to the next coder together with the parent attempt.
The hint names the strategy the critic suggests; the planner uses it when it applies.
The critic also records whether the run must stop (budget spent, target met, coder gave up).
"""
from __future__ import annotations

import time
from typing import Any

from kernelwright.agents.critic import feedback_for
from kernelwright.graph.context import Context, context_of
from kernelwright.graph.routing import stop_reason
from kernelwright.graph.state import State
from kernelwright.graph.strategies import History
from langgraph.config import get_stream_writer
from langgraph.runtime import Runtime


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
    improved = bool(best and any(a["id"] == best["attempt"] for a in this_round))
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
