"""Tool plugin "ncu_profile": profile each correct attempt so the critic hears a diagnosis.

Runs after verification when the run asks for profiles (``verify_options={"profile": True}``)
and the verifier left `verdict.profile` empty. On the CPU it does nothing (no profile exists).
It fills `verdict.profile = {"figures", "diagnosis"}`, the attempt's digest that the critic
reads, and the saved verdict JSON; it returns where the figures came from and ncu's overhead.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kernelwright.plugins import register
from kernelwright.verifier.environment import cuda_available as _cuda_available  # tests patch this name
from kernelwright.verifier.verdict import Verdict


def problem_of_run(source_path: str) -> str:
    """Problem source text of the run that wrote `source_path` (from <run_dir>/run.json)."""
    saved = json.loads((Path(source_path).parent / "run.json").read_text())["input"]
    if saved.get("problem_source"):
        return saved["problem_source"]
    return Path(saved["problem_path"]).read_text()


@register("tool", "ncu_profile")
def ncu_profile(attempt: dict[str, Any], verdict: Verdict, context: Any) -> dict[str, Any] | None:
    options = getattr(context, "verify_options", None) or {}
    if not options.get("profile") or verdict.status != "correct" or (verdict.profile or {}).get("figures"):
        return None
    if not attempt.get("source_path") or not _cuda_available():
        return None
    from kernelwright.tools.profile import profile_candidate

    device = getattr(context, "device", "auto") or "auto"
    try:
        result = profile_candidate(problem_of_run(attempt["source_path"]), attempt["source_path"],
                                   device=device if device.startswith("cuda") else "auto")
    except Exception as exc:  # noqa: BLE001 - a profile is advice; the attempt stands without it
        return {"error": f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"}
    verdict.profile = {"figures": result.get("figures") or {}, "diagnosis": result.get("diagnosis") or ""}
    digest = attempt.setdefault("verdict", {})
    digest["figures"], digest["diagnosis"] = verdict.profile["figures"], verdict.profile["diagnosis"]
    if attempt.get("verdict_path"):
        Path(attempt["verdict_path"]).write_text(verdict.model_dump_json(indent=1))
    return {"source": result.get("source"), "overhead_s": result.get("overhead_s"), "error": result.get("error")}
