"""Node `start`: load the problem once, fix the run id and artifact folder, start the clock."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from kernelwright.graph.context import Context, context_of
from kernelwright.graph.state import State, new_run_id
from kernelwright.tools.opgraph import analyze_problem
from kernelwright.verifier import backward
from kernelwright.verifier.problem import LoadError, Problem, load_problem
from langchain_core.runnables import RunnableConfig
from langgraph.runtime import Runtime


def _analysis(problem: Problem) -> dict[str, Any]:
    """The problem's op graph for the planner, coders and critic; a failure is a reason, not a crash."""
    try:
        return analyze_problem(problem)
    except Exception as exc:  # noqa: BLE001 - the run goes on to the coders without an analysis
        return {"captured": False, "reason": f"analysis failed: {type(exc).__name__}: {exc}".splitlines()[0]}


def start(state: State, runtime: Runtime[Context], config: RunnableConfig) -> dict[str, Any]:
    """Read the problem given as a path or source text; a broken problem raises LoadError."""
    ctx = context_of(runtime)
    path = state.get("problem_path")
    source = state.get("problem_source")
    given = source or path
    if not given:
        raise LoadError("no problem given: pass problem_path or problem_source in the input")
    problem = load_problem(given)
    if path:
        problem.path = path
    thread = (config.get("configurable") or {}).get("thread_id")
    run_id = state.get("run_id") or ctx.run_id or (str(thread) if thread else new_run_id())
    run_dir = Path(ctx.artifacts_dir) / run_id
    run_dir.mkdir(parents=True, exist_ok=True)
    return {
        "run_id": run_id,
        "problem_source": problem.source,
        "problem_name": state.get("problem_name") or problem.name,
        "description": problem.description,
        # a run that verifies the backward pass marks the problem, so that coders write one
        "problem_meta": backward.marked(problem.metadata, bool(ctx.verify_options.get("backward"))),
        "analysis": state.get("analysis") or _analysis(problem),
        "run_dir": str(run_dir),
        "started_at": time.time(),
        "elapsed_s": 0.0,
        "iteration": 0,
        "next_id": 1,
        "attempts": [],
        "best": None,
        "feedback": {},
        "hint": None,
        "stall": 0,
        "tokens": 0,
        "stop_reason": "",
        "error": None,
    }
