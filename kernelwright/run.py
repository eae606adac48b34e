"""`run_graph`: run the kernel search on one problem and return the best verified kernel.

Every run has an id (the checkpoint thread id) and a folder `<artifacts_dir>/<run_id>/` holding
each attempt's source and verdict, the run's settings (run.json) and the best kernel (best.py).
The SQLite checkpointer makes a killed or interrupted run resumable: `run_graph(None, run_id=..., resume=True)`
continues with the step that was in flight. `on_event` first gets a custom event "run" (id, folder, budgets).
"""
from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Callable
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

from kernelwright.graph.context import MISSING_ENDPOINT, Context, llm_endpoint
from kernelwright.result import Attempt, Result
from kernelwright.verifier.problem import Problem, looks_like_path
from kernelwright.verifier.verdict import Verdict

EventHandler = Callable[[str, Any], None]
_SAVED = ("coder", "model", "base_url", "api_key_env", "budget_s", "max_iterations", "max_tokens", "fanout",
          "max_concurrency", "target_speedup", "strategies", "stall_limit", "device", "verify_options",
          "coder_options")


class RunError(RuntimeError):
    """A run could not start or resume; the message is one line saying what to do."""


def pick_coder(coder: str, model: str | None, base_url: str | None) -> str:
    """"auto" = the LLM coder when an endpoint or model is configured, else the template coder."""
    if coder != "auto":
        return coder
    configured = base_url or model or os.environ.get("KERNELWRIGHT_BASE_URL") or os.environ.get("KERNELWRIGHT_MODEL")
    return "llm" if configured else "template"


def open_checkpointer(path: str | Path):
    """A SqliteSaver on `path` (created with its folder), usable from the graph's worker threads."""
    from langgraph.checkpoint.sqlite import SqliteSaver

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    return SqliteSaver(sqlite3.connect(str(path), check_same_thread=False))


def _input(problem: Any) -> dict[str, Any]:
    if isinstance(problem, Problem):
        return {"problem_source": problem.source, "problem_name": problem.name,
                **({"problem_path": problem.path} if problem.path else {})}
    text = str(problem)
    if looks_like_path(problem):
        return {"problem_path": str(Path(text))}
    return {"problem_source": text}


def run_graph(
    problem: Problem | str | Path | None, *, budget_s: float = 900, iterations: int | None = None,
    coder: str = "auto", model: str | None = None, base_url: str | None = None, device: str = "auto",
    fanout: int = 2, run_id: str | None = None, artifacts_dir: str | Path = "runs",
    target_speedup: float | None = None, resume: bool = False, on_event: EventHandler | None = None,
    checkpoint_path: str | Path | None = None, **context_overrides: Any,
) -> Result:
    """Search for a fast, verified kernel for `problem` until the budget is spent; see module doc."""
    from kernelwright.graph.builder import make_graph
    from kernelwright.graph.state import new_run_id

    known = {f.name for f in fields(Context)}
    unknown = sorted(set(context_overrides) - known)
    if unknown:
        raise RunError(f"unknown run option {unknown[0]!r}; known: {', '.join(sorted(known))}")
    if budget_s <= 0 or fanout < 1 or (iterations is not None and iterations < 1):
        raise RunError("budget, fan-out and iterations must be positive; e.g. budget_s=900, fanout=2")
    artifacts = Path(artifacts_dir)
    settings: dict[str, Any] = {}
    if resume:
        if not run_id:
            raise RunError("resume needs the run id: pass run_id=... (see the folders under runs/)")
        saved = artifacts / run_id / "run.json"
        if not saved.is_file():
            raise RunError(f"no run {run_id!r} under {artifacts}: nothing to resume ({saved} missing)")
        settings = json.loads(saved.read_text())["context"]
        if budget_s != 900:
            settings["budget_s"] = budget_s
        if iterations is not None:
            settings["max_iterations"] = iterations
    else:
        if problem is None:
            raise RunError("no problem given: pass a problem file, source text or Problem")
        run_id = run_id or new_run_id()
        settings = {"coder": pick_coder(coder, model, base_url), "model": model, "base_url": base_url,
                    "budget_s": float(budget_s), "max_iterations": iterations, "fanout": fanout, "device": device,
                    "target_speedup": target_speedup}
    settings.update(context_overrides)
    ctx = Context(**{**settings, "run_id": run_id, "artifacts_dir": str(artifacts)})
    if ctx.coder != "template" and ctx.coder_factory is None:
        from kernelwright.graph.plugins import registry

        if ctx.coder not in registry("coder"):
            raise RunError(f"coder {ctx.coder!r} is not available (known: {', '.join(sorted(registry('coder')))}); "
                           "install its plugin or pass --coder template")
        if ctx.coder == "llm" and llm_endpoint(ctx) is None:
            raise RunError(MISSING_ENDPOINT)
    _check_inputs(ctx, None if resume else problem)
    run_dir = artifacts / run_id
    run_dir.mkdir(parents=True, exist_ok=True)
    checkpointer = open_checkpointer(checkpoint_path or artifacts / "checkpoints.sqlite")
    graph = make_graph(checkpointer=checkpointer)
    config = {"configurable": {"thread_id": run_id}, "recursion_limit": 1_000_000,
              "max_concurrency": max(1, ctx.max_concurrency)}
    t0 = time.time()
    done = 0  # iterations finished before this call (when resuming)
    if resume:
        snapshot = graph.get_state(config)
        if not snapshot.values:
            raise RunError(f"no checkpoint for run {run_id!r}: start a new run instead of resuming")
        values = snapshot.values
        done = int(values.get("iteration") or 0)  # the iteration planned last: finished unless a step of it is due
        if any(task.name not in ("start", "plan") for task in snapshot.tasks):
            done -= 1
        if values.get("started_at"):
            ctx.paused_s = max(0.0, time.time() - values["started_at"] - float(values.get("elapsed_s") or 0.0))
        graph_input = None  # continue from the last checkpoint
        if not snapshot.tasks:  # finished; an interrupted step is a task (some of its writes may be saved)
            return _result(values, run_id, artifacts, time.time() - t0)
    else:
        graph_input = {**_input(problem), "run_id": run_id}
        saved_ctx = {k: v for k, v in asdict(ctx).items() if k in _SAVED}
        (run_dir / "run.json").write_text(json.dumps({"run_id": run_id, "input": graph_input, "context": saved_ctx},
                                                     indent=1, default=str))
    if on_event is not None:
        on_event("custom", {"event": "run", "run_id": run_id, "resumed": resume, "run_dir": str(run_dir),
                            "max_iterations": ctx.max_iterations, "budget_s": ctx.budget_s,
                            "iteration": done})
    values = {}
    for mode, chunk in graph.stream(graph_input, config, context=ctx, stream_mode=["updates", "custom", "values"]):
        if mode == "values":
            values = chunk
        elif on_event is not None:
            on_event(mode, chunk)
    values = graph.get_state(config).values or values
    checkpointer.conn.close()
    return _result(values, run_id, artifacts, time.time() - t0)


def _check_inputs(ctx: Context, problem: Any) -> None:
    """Refuse a bad device spec or problem before anything is written (LoadError / RunError, one line)."""
    from kernelwright.verifier.pool import devices_from_spec
    from kernelwright.verifier.problem import load_problem

    try:
        devices_from_spec(ctx.device)
    except ValueError as exc:
        raise RunError(f"--device: {exc}") from None
    if problem is not None:
        load_problem(problem)


def _result(values: dict[str, Any], run_id: str, artifacts: Path, elapsed: float) -> Result:
    """Build the Result record and write the best kernel to <run_dir>/best.py."""
    best = values.get("best") or None
    best_path = None
    if best:
        best_path = Path(values.get("run_dir") or artifacts / run_id) / "best.py"
        best_path.write_text(best["source"])
    history = [Attempt.model_validate({**a, "summary": a.get("summary") or ""}) for a in values.get("attempts") or []]
    return Result(
        run_id=run_id, problem=values.get("problem_name", ""), best_source=best["source"] if best else None,
        best_verdict=Verdict.model_validate(best["verdict"]) if best else None,
        best_attempt=best["attempt"] if best else None, history=history,
        stop_reason=values.get("stop_reason") or "", elapsed_s=float(values.get("elapsed_s") or elapsed),
        tokens=int(values.get("tokens") or 0), artifacts_dir=values.get("run_dir"),
        best_path=str(best_path) if best_path else None, error=values.get("error"),
        analysis=values.get("analysis") or {},
    )
