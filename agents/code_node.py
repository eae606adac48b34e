"""Node `code`: one coder call for one planned candidate (the planner fans these out with Send).

Coders come from the plugin registry (kind "coder"); an entry is a class or factory, built with
`entry.from_context(context)` when it has that classmethod, else `entry()`. A coder that returns
`CodeResult(source=None, error=...)` produced no usable code this time; a coder that RAISES (an
unreachable endpoint, a missing key) stops the run with its message: no fallback to another coder.
"""
from __future__ import annotations

import time
from typing import Any

from langgraph.config import get_stream_writer
from langgraph.runtime import Runtime

from kernelwright.agents.coder import CodeRequest, CodeResult, Coder
from kernelwright.graph.context import MISSING_ENDPOINT, Context, context_of, llm_endpoint
from kernelwright.plugins import get


def make_coder(ctx: Context) -> Coder:
    """The coder named in the context (or built by the context's injected factory)."""
    if ctx.coder_factory is not None:
        return ctx.coder_factory(ctx)
    if ctx.coder == "llm" and llm_endpoint(ctx) is None:  # e.g. Studio without a base_url in the context
        raise ValueError(MISSING_ENDPOINT)
    entry = get("coder", ctx.coder)
    if hasattr(entry, "from_context"):
        return entry.from_context(ctx)
    return entry() if isinstance(entry, type) else entry


def code(payload: dict[str, Any], runtime: Runtime[Context]) -> dict[str, Any]:
    """Ask the coder for one candidate; the result goes to `pending` for compile/verify."""
    ctx = context_of(runtime)
    task = payload["task"]
    started = time.time()
    fatal = False
    try:
        coder = make_coder(ctx)
        result: CodeResult = coder.generate(CodeRequest(**{**payload["request"], "device": ctx.device}))
        coder_name = getattr(coder, "name", ctx.coder)
    except Exception as exc:  # noqa: BLE001 - a coder failure must stop the run, with its reason
        reason = (str(exc).strip().splitlines() or [""])[0]
        result = CodeResult(source=None, error=f"coder {ctx.coder!r} failed: {type(exc).__name__}: {reason}")
        coder_name, fatal = ctx.coder, True
    meta = dict(result.meta or {})
    if fatal:
        meta["fatal"] = True
    candidate = {
        "id": task["id"], "parent": task["parent"], "iteration": task["iteration"],
        "strategy": task["strategy"], "coder": coder_name, "backend": task["backend"],
        "source": result.source, "error": result.error, "tokens": int(result.tokens or 0),
        "started_at": started, "finished_at": time.time(), "meta": meta,
    }
    get_stream_writer()({"event": "candidate", "id": task["id"], "strategy": task["strategy"],
                         "ok": result.source is not None, "error": result.error})
    return {"pending": [candidate]}
