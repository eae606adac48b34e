"""Tool plugin "ncu_profile": profile each correct attempt so the critic hears a diagnosis.

Runs after verification when the run asks for profiles (``verify_options={"profile": True}``)
and the verifier left `verdict.profile` empty. On the CPU it does nothing (no profile exists).
It fills `verdict.profile = {"figures", "diagnosis"}`, the attempt's digest that the critic
reads, and the saved verdict JSON; it returns where the figures came from and ncu's overhead.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from kernelwright.graph.plugins import ToolRuntime, register
from kernelwright.verifier.environment import cuda_available as _cuda_available  # tests patch this name
from kernelwright.verifier.verdict import Verdict


@register("tool", "ncu_profile")
def ncu_profile(attempt: dict[str, Any], verdict: Verdict, runtime: ToolRuntime) -> dict[str, Any] | None:
    context = runtime.context
    options = getattr(context, "verify_options", None) or {}
    if not options.get("profile") or verdict.status != "correct" or (verdict.profile or {}).get("figures"):
        return None
    if not attempt.get("source_path") or not _cuda_available():
        return None
    from kernelwright.verifier.profile.ncu import profile_candidate

    device = getattr(context, "device", "auto") or "auto"
    try:
        result = profile_candidate(_problem_source(runtime.state), attempt["source_path"],
                                   device=device if device.startswith("cuda") else "auto")
    except Exception as exc:  # noqa: BLE001 - a profile is advice; the attempt stands without it
        return {"error": f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"}
    verdict.profile = {"figures": result.get("figures") or {}, "diagnosis": result.get("diagnosis") or ""}
    digest = attempt.setdefault("verdict", {})
    digest["figures"], digest["diagnosis"] = verdict.profile["figures"], verdict.profile["diagnosis"]
    if attempt.get("verdict_path"):
        Path(attempt["verdict_path"]).write_text(verdict.model_dump_json(indent=1))
    return {"source": result.get("source"), "overhead_s": result.get("overhead_s"), "error": result.get("error")}


def _problem_source(state: Any) -> str:
    """The run's problem text, from the state (a path-only input is read from its file)."""
    return state.get("problem_source") or Path(state["problem_path"]).read_text()
