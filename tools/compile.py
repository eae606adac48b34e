"""Node `compile`: a cheap static precheck of fresh candidates before the verifier spends time.

Source that does not parse or defines no `ModelNew` gets a compile_error verdict here (stage
"load", the same verdict the verifier would give); real compilation happens in the verifier.
"""
from __future__ import annotations

from typing import Any

from kernelwright.graph.state import State
from kernelwright.verifier.problem import defines_model_new
from kernelwright.verifier.verdict import Verdict


def precheck_source(source: str) -> Verdict | None:
    """A compile_error verdict when the source cannot be a candidate, else None."""
    try:
        defines = defines_model_new(source)
    except SyntaxError as exc:
        return Verdict(status="compile_error", stage="load",
                       message=f"syntax error at line {exc.lineno}: {exc.msg}", logs=f"{exc}")
    if not defines:
        return Verdict(status="compile_error", stage="load", message="not a candidate: no `class ModelNew` defined")
    return None


def compile_candidates(state: State) -> dict[str, Any]:
    """Precheck every pending candidate with source; record the failures by attempt id."""
    failures = {}
    for candidate in state.get("pending") or []:
        if candidate.get("source"):
            verdict = precheck_source(candidate["source"])
            if verdict is not None:
                failures[str(candidate["id"])] = verdict.model_dump(mode="json")
    return {"precheck": failures}
