"""Routing decisions of the graph, one function per decision, plus the stop rule they share."""
from __future__ import annotations

from typing import Any

from langgraph.graph import END
from langgraph.types import Send

from kernelwright.agents.planner import code_tasks
from kernelwright.graph.context import Context
from kernelwright.graph.state import State


def stop_reason(state: dict[str, Any], this_round: list[dict[str, Any]], ctx: Context) -> tuple[str, str | None]:
    """(reason, error) when the run must stop after this iteration, else ("", None)."""
    fatal = [a for a in this_round if (a.get("meta") or {}).get("fatal")]
    if fatal:
        return "coder_error", str(fatal[0].get("error"))
    if this_round and all((a.get("meta") or {}).get("exhausted") for a in this_round):
        return "search_exhausted", None
    best = state.get("best") or {}
    speedup = best.get("speedup_eager")
    if ctx.target_speedup is not None and best.get("timing_meaningful") and speedup is not None \
            and speedup >= ctx.target_speedup:
        return "target_speedup", None
    if ctx.max_iterations is not None and int(state.get("iteration") or 0) >= ctx.max_iterations:
        return "iterations", None
    if ctx.max_tokens is not None and int(state.get("tokens") or 0) >= ctx.max_tokens:
        return "tokens", None
    if float(state.get("elapsed_s") or 0.0) >= ctx.budget_s:
        return "wall_time", None
    return "", None


def route_after_plan(state: State) -> list[Send] | str:
    """Fan out to the coders, or end when the planner found nothing to do."""
    if state.get("stop_reason"):
        return END
    return code_tasks(state) or END


def route_after_critique(state: State) -> str:
    """Plan the next iteration unless the critic recorded a reason to stop."""
    return END if state.get("stop_reason") else "plan"
