"""Node `plan`: read the problem and the history, pick a strategy and the fan-out.

The decision itself is `graph.strategies.choose`; this node turns it into coder tasks that
`graph.routing.code_tasks` hands to the `code` node as `Send` payloads (one per candidate, run
in parallel).
"""
from __future__ import annotations

from typing import Any

from kernelwright.graph.context import Context, context_of
from kernelwright.graph.plugins import registry
from kernelwright.graph.state import CodeTask, State
from kernelwright.graph.strategies import History, choose, enabled_strategies
from langgraph.config import get_stream_writer
from langgraph.runtime import Runtime


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
    tasks: list[CodeTask] = [
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
