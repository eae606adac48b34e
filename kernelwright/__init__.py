"""kernelwright: write, verify and tune GPU kernels with an LLM-driven LangGraph loop.

Public API: `run_graph`, `verify`, `Problem`, `load_problem`, `Verdict`, `Result`.
Heavy modules load on first use so that `import kernelwright` stays fast.
"""
from __future__ import annotations

from importlib import import_module
from typing import Any

from kernelwright import ast_guard  # noqa: F401  (serializes ast.parse where CPython needs it)

__version__ = "0.1.0"

_EXPORTS = {
    "run_graph": "kernelwright.run",
    "verify": "kernelwright.verifier.api",
    "Problem": "kernelwright.verifier.problem",
    "load_problem": "kernelwright.verifier.problem",
    "problem_from_model": "kernelwright.verifier.problem",
    "Verdict": "kernelwright.verifier.verdict",
    "VerifyOptions": "kernelwright.verifier.options",
    "Result": "kernelwright.result",
    "Attempt": "kernelwright.result",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'kernelwright' has no attribute {name!r}")
