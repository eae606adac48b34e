"""Node `precheck`: the static precheck (tools/precheck.py) of every fresh candidate."""
from __future__ import annotations

from typing import Any

from kernelwright.graph.state import State
from kernelwright.tools.precheck import precheck_source


def precheck(state: State) -> dict[str, Any]:
    """Precheck every pending candidate with source; record the failures by attempt id."""
    failures = {}
    for candidate in state.get("pending") or []:
        if source := candidate.get("source"):
            verdict = precheck_source(source)
            if verdict is not None:
                failures[str(candidate["id"])] = verdict.model_dump(mode="json")
    return {"precheck": failures}
