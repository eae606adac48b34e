"""Node `code`: one coder call for one planned candidate (the planner fans these out with Send).

Coders come from the plugin registry (kind "coder"); an entry is a class or factory, built with
`entry.from_context(context)` when it has that classmethod, else `entry()`. A coder that returns
`CodeResult(source=None, error=...)` produced no usable code this time; a coder that RAISES (an
unreachable endpoint, a missing key) stops the run with its message: no fallback to another coder.
The one exception is the offline seed the planner may ask for before an LLM (task coder "template"
while the run's coder is "llm"): when it has nothing, the LLM simply starts cold.
"""
from __future__ import annotations

import time
from typing import Any

from kernelwright.agents.coder import Coder, CodeRequest, CodeResult
from kernelwright.graph.context import MISSING_ENDPOINT, Context, context_of, llm_endpoint
from kernelwright.graph.plugins import get
from kernelwright.graph.state import CodePayload
from langgraph.config import get_stream_writer
from langgraph.runtime import Runtime


def make_coder(ctx: Context, name: str | None = None) -> Coder:
    """The coder `name` (default: the context's; or built by the context's injected factory)."""
    name = name or ctx.coder
    if ctx.coder_factory is not None and name == ctx.coder:
        return ctx.coder_factory(ctx)
    if name == "llm" and llm_endpoint(ctx) is None:  # e.g. Studio without a base_url in the context
        raise ValueError(MISSING_ENDPOINT)
    entry = get("coder", name)
    if hasattr(entry, "from_context"):
        return entry.from_context(ctx)
    return entry() if isinstance(entry, type) else entry


def run_deadline(payload: CodePayload, ctx: Context) -> float | None:
    """time.time() at which the run's wall-clock budget ends (time paused before a resume not counted)."""
    started = payload.get("run_started_at")
    return float(started) + ctx.paused_s + ctx.budget_s if started else None


def code(payload: CodePayload, runtime: Runtime[Context]) -> dict[str, Any]:
    """Ask the coder for one candidate; the result goes to `pending` for precheck/verify."""
    ctx = context_of(runtime)
    task = payload["task"]
    name = task.get("coder") or ctx.coder
    started = time.time()
    fatal = False
    try:
        coder = make_coder(ctx, name)
        request = CodeRequest(**{**payload["request"], "device": ctx.device, "deadline": run_deadline(payload, ctx)})
        result: CodeResult = coder.generate(request)
        coder_name = getattr(coder, "name", name)
    except Exception as exc:  # noqa: BLE001 - a coder failure must stop the run, with its reason
        reason = (str(exc).strip().splitlines() or [""])[0]
        result = CodeResult(source=None, error=f"coder {name!r} failed: {type(exc).__name__}: {reason}")
        coder_name, fatal = name, True
    meta = dict(result.meta or {})
    if name != ctx.coder:  # the offline seed of an LLM run: having nothing is not a reason to stop
        fatal = False
        meta.pop("fatal", None)
    if fatal:
        meta["fatal"] = True
    candidate = {
        "id": task["id"], "parent": task["parent"], "iteration": task["iteration"],
        "strategy": task["strategy"], "coder": coder_name, "backend": task["backend"],
        "source": result.source, "error": result.error, "tokens": int(result.tokens or 0),
        "started_at": started, "finished_at": time.time(), "meta": meta,
    }
    writer = get_stream_writer()
    writer({"event": "candidate", "id": task["id"], "strategy": task["strategy"],
            "ok": result.source is not None, "error": result.error})
    warning = (meta.get("llm") or {}).get("warning")
    if warning:  # e.g. the server truncated the prompt (once per run; see agents/llm_cuts.py)
        writer({"event": "warning", "id": task["id"], "message": warning})
    return {"pending": [candidate]}
