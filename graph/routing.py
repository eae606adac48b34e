"""Routing decisions of the graph, one function per decision, plus the stop rule they share."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

from kernelwright.agents.coder import CodeRequest
from kernelwright.graph.context import Context
from kernelwright.graph.state import CodePayload, State
from langgraph.graph import END
from langgraph.types import Send

_REQUEST_FIELDS = {f.name for f in fields(CodeRequest)}


def stop_reason(state: Mapping[str, Any], this_round: Sequence[Mapping[str, Any]],
                ctx: Context) -> tuple[str, str | None]:
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


def _read(path: str | None) -> str | None:
    try:
        return Path(path).read_text() if path else None
    except OSError:
        return None


def code_tasks(state: State) -> list[Send]:
    """One `Send("code", payload)` per planned candidate; the payload is a full CodeRequest."""
    attempts = {a["id"]: a for a in state.get("attempts") or []}
    best = state.get("best") or {}
    feedback = state.get("feedback") or {}
    sends = []
    for task in (state.get("plan") or {}).get("tasks", []):
        parent = attempts.get(task["parent"]) if task["parent"] is not None else None
        tried = [dict(a.get("meta") or {}, id=a["id"], status=a.get("status")) for a in attempts.values()
                 if a.get("coder") == task["coder"]]
        request = {
            "problem_source": state["problem_source"], "problem_name": state["problem_name"],
            "description": state.get("description", ""), "metadata": state.get("problem_meta") or {},
            "strategy": task["strategy"], "instructions": task["instructions"],
            "feedback": feedback.get(str(task["parent"]), feedback.get("", "")),
            "parent_source": _read(parent.get("source_path")) if parent else None,
            "best_source": best.get("source"), "backend": task["backend"],
            "attempt_index": task["attempt_index"], "iteration": task["iteration"], "tried": tried,
            "analysis": state.get("analysis") or {},
            # optional fields: filled only when the coder contract defines them
            "artifacts_dir": state.get("run_dir"), "attempt_id": task["id"], "run_id": state.get("run_id"),
        }
        request = {k: v for k, v in request.items() if k in _REQUEST_FIELDS}
        payload: CodePayload = {"task": task, "request": request, "run_started_at": state.get("started_at")}
        sends.append(Send("code", payload))
    return sends
