"""Node `verify`: run the iteration's fresh candidates through the verifier and record verdicts.

All candidates of an iteration go to the verifier pool together (its workers verify them in
parallel, across GPUs and beside each other on one GPU). Each candidate's source and verdict JSON are written to
`<run_dir>/attempt_<id>.py|.json`. The best kernel (correct; lowest median time when timings are
meaningful, else the first correct one) is updated here, always kept, and written to
`<run_dir>/best.py` as soon as it changes, so a killed run keeps it.
Tool plugins (registry kind "tool", graph/plugins.py `ToolPlugin`) run after verification on each
attempt: `tool(attempt, verdict, runtime)` with a `ToolRuntime` (state, context, run folder); what
it returns is stored under `attempt["meta"]["tools"][name]`.
"""
from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, cast

from kernelwright.graph.context import Context, context_of
from kernelwright.graph.plugins import ToolRuntime, registry
from kernelwright.graph.state import State
from kernelwright.tools.verdicts import digest, is_better
from kernelwright.verifier.api import verify_many
from kernelwright.verifier.options import VerifyOptions
from kernelwright.verifier.problem import Problem
from kernelwright.verifier.verdict import Verdict
from langgraph.config import get_stream_writer
from langgraph.runtime import Runtime

VerifyFn = Callable[[Problem, list[Path], VerifyOptions, str], list[Verdict]]


def _no_code(meta: dict[str, Any], error: str | None) -> dict[str, str]:
    """Status and summary of a candidate without code: a finished search, or a coder failure."""
    if meta.get("exhausted"):
        what = f"all {meta['configs']} configs" if meta.get("configs") is not None else "all configs"
        return {"status": "exhausted", "summary": f"exhausted: {what} of template {meta.get('template')} tried"}
    return {"status": "coder_error", "summary": f"coder_error: {error or 'no code'}"}


def _problem(state: State) -> Problem:
    return Problem(name=state["problem_name"], source=state["problem_source"], path=state.get("problem_path"),
                   description=state.get("description", ""), metadata=dict(state.get("problem_meta") or {}))


def _repeated_verdict(state: State, cand: Mapping[str, Any]) -> Verdict | None:
    """The saved verdict of the earlier attempt this candidate repeats word for word (meta `repeat_of`)."""
    earlier = (cand.get("meta") or {}).get("repeat_of")
    for attempt in state.get("attempts") or []:
        if earlier is not None and attempt.get("id") == earlier and (saved := attempt.get("verdict_path")):
            path = Path(saved)
            return Verdict.model_validate_json(path.read_text()) if path.is_file() else None
    return None


def _run_tools(attempt: dict[str, Any], verdict: Verdict, runtime: ToolRuntime) -> None:
    for name, tool in sorted(registry("tool").items()):
        out = tool(attempt, verdict, runtime)
        if out is not None:
            attempt.setdefault("meta", {}).setdefault("tools", {})[name] = out


def verify(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    """Verify the pending candidates, record attempts, keep the best kernel."""
    ctx = context_of(runtime)
    run_dir = Path(state["run_dir"])
    run_dir.mkdir(parents=True, exist_ok=True)
    pending = sorted(state.get("pending") or [], key=lambda c: c["id"])
    precheck = state.get("precheck") or {}
    verdicts: dict[int, Verdict] = {}
    to_verify: list[tuple[int, Path]] = []
    for cand in pending:
        source = cand.get("source")
        if not source:
            continue
        path = run_dir / f"attempt_{cand['id']}.py"
        path.write_text(source)
        repeated = _repeated_verdict(state, cand)
        if repeated is not None:  # the same source as an earlier attempt: its verdict, not a second verification
            verdicts[cand["id"]] = repeated
        elif str(cand["id"]) in precheck:
            verdicts[cand["id"]] = Verdict.model_validate(precheck[str(cand["id"])])
        else:
            to_verify.append((cand["id"], path))
    if to_verify:
        options = VerifyOptions(**{"device": ctx.device, **ctx.verify_options})
        verifier: VerifyFn = ctx.verifier or verify_many
        results = verifier(_problem(state), [p for _, p in to_verify], options, ctx.device)
        verdicts.update({cid: v for (cid, _), v in zip(to_verify, results)})
    best = cast("dict[str, Any] | None", state.get("best"))  # a BestKernel, replaced by a plain dict below
    attempts = []
    tool_runtime = ToolRuntime(state=state, context=ctx, run_dir=run_dir)
    writer = get_stream_writer()
    for cand in pending:
        attempt: dict[str, Any] = {k: cand.get(k) for k in ("id", "parent", "iteration", "strategy", "coder", "backend",
                                            "tokens", "started_at", "error")}
        attempt["meta"] = dict(cand.get("meta") or {})
        verdict = verdicts.get(cand["id"])
        if verdict is None:
            attempt.update(**_no_code(attempt["meta"], cand.get("error")), source_path=None, verdict_path=None,
                           median_ms=None, timing_meaningful=False, speedup_eager=None, speedup_compile=None,
                           verdict={})
        else:
            vpath = run_dir / f"attempt_{cand['id']}.json"
            vpath.write_text(verdict.model_dump_json(indent=1))
            d = digest(verdict)
            attempt.update(status=verdict.status, summary=verdict.summary(), verdict=d,
                           source_path=str(run_dir / f"attempt_{cand['id']}.py"), verdict_path=str(vpath),
                           median_ms=d["median_ms"], timing_meaningful=verdict.timing_meaningful,
                           speedup_eager=verdict.speedups.get("eager"),
                           speedup_compile=verdict.speedups.get("compile"), policies=dict(verdict.policies))
            _run_tools(attempt, verdict, tool_runtime)
            if is_better(attempt, best):
                best = {"attempt": cand["id"], "source": cand["source"], "median_ms": attempt["median_ms"],
                        "speedup_eager": attempt["speedup_eager"], "timing_meaningful": verdict.timing_meaningful,
                        "verdict": json.loads(verdict.model_dump_json())}
        attempt["finished_at"] = time.time()
        attempts.append(attempt)
        writer({"event": "verdict", "id": cand["id"], "status": attempt["status"], "summary": attempt["summary"]})
    if best is not None and best is not state.get("best"):
        (run_dir / "best.py").write_text(best["source"])
    tokens = int(state.get("tokens") or 0) + sum(int(c.get("tokens") or 0) for c in pending)
    return {"pending": None, "precheck": {}, "attempts": attempts, "best": best, "tokens": tokens}
