"""A cheap static precheck of candidate source, before the verifier spends time on it.

Source that does not parse or defines no `ModelNew` gets a compile_error verdict (stage "load",
the same verdict the verifier would give); real compilation happens in the verifier.
"""
from __future__ import annotations

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
