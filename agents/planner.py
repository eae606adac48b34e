"""Node `plan`: read the problem and the history, pick a strategy and the fan-out.

The decision itself is `graph.strategies.choose`; this node turns it into coder tasks that
`code_tasks` hands to the `code` node as `Send` payloads (one per candidate, run in parallel).
"""
from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Any

from langgraph.config import get_stream_writer
from langgraph.runtime import Runtime
from langgraph.types import Send

from kernelwright.agents.coder import CodeRequest
from kernelwright.graph.context import Context, context_of
from kernelwright.graph.state import State
from kernelwright.graph.strategies import History, choose, enabled_strategies
from kernelwright.plugins import registry

_REQUEST_FIELDS = {f.name for f in fields(CodeRequest)}


def backends_for(meta: dict[str, Any]) -> list[str]:
    """Backends the coder may use: the problem's BACKENDS, else triton plus registered plugins."""
    declared = meta.get("backends")
    if declared:
        return [str(b) for b in declared]
    return ["triton"] + [b for b in sorted(registry("backend")) if b != "triton"]


def plan(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    """Choose the next strategy, its parent attempt and one task per candidate."""
    ctx = context_of(runtime)
    backends = backends_for(state.get("problem_meta") or {})
    history = History.from_state(state, ctx.stall_limit, backends)
    strategy = choose(history, enabled_strategies(ctx.strategies), state.get("hint"))
    iteration = int(state.get("iteration") or 0) + 1
    if strategy is None:
        return {"plan": {"strategy": None, "iteration": iteration, "tasks": []},
                "stop_reason": "no strategy applies to the history"}
    parent = None
    if strategy.parent == "failure":
        focus = history.focus_failure()
        parent = focus["id"] if focus else None
    elif strategy.parent == "best" and history.best:
        parent = history.best["attempt"]
    backend = history.current_backend
    if strategy.name == "switch_backend" and len(backends) > 1:
        backend = backends[(backends.index(backend) + 1) % len(backends)] if backend in backends else backends[0]
    first_id = int(state.get("next_id") or 1)
    tasks = [
        {"id": first_id + i, "parent": parent, "iteration": iteration, "strategy": strategy.name,
         "instructions": strategy.instructions, "backend": backend, "attempt_index": i, "coder": ctx.coder}
        for i in range(max(1, int(ctx.fanout)))
    ]
    if _seeds_offline(ctx, state, iteration):
        tasks[0]["coder"] = "template"
    get_stream_writer()({"event": "plan", "iteration": iteration, "strategy": strategy.name,
                         "parent": parent, "candidates": len(tasks)})
    return {"plan": {"strategy": strategy.name, "iteration": iteration, "parent": parent, "tasks": tasks},
            "iteration": iteration, "next_id": first_id + len(tasks), "hint": None}


def _seeds_offline(ctx: Context, state: State, iteration: int) -> bool:
    """Iteration 1 of an LLM run starts with the offline coder's draft (Context.seed_offline)."""
    return (ctx.seed_offline and ctx.coder == "llm" and iteration == 1 and not state.get("attempts")
            and "template" in registry("coder"))


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
        tried = [dict(a.get("meta") or {}, id=a["id"]) for a in attempts.values() if a.get("coder") == task["coder"]]
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
        sends.append(Send("code", {"task": task, "request": request, "run_started_at": state.get("started_at")}))
    return sends
