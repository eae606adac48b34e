"""The record `run_graph` returns: best verified kernel, its verdict, and every attempt."""
from __future__ import annotations

from pydantic import BaseModel, Field

from kernelwright.verifier.verdict import Verdict


class Attempt(BaseModel):
    """One candidate in the search tree."""

    id: int
    parent: int | None = None
    iteration: int
    strategy: str
    coder: str
    status: str
    summary: str = ""
    median_ms: float | None = None
    speedup_eager: float | None = None
    speedup_compile: float | None = None
    source_path: str | None = None
    started_at: float = 0.0  # unix time
    finished_at: float = 0.0
    tokens: int = 0
    meta: dict = Field(default_factory=dict)  # e.g. launch configuration, template name
    # passes under each verifier policy (strict, kernelbench); None: the policy's answer is not known
    policies: dict[str, bool | None] = Field(default_factory=dict)


class Result(BaseModel):
    """Outcome of one run of the graph."""

    run_id: str
    problem: str
    best_source: str | None = None
    best_verdict: Verdict | None = None
    best_attempt: int | None = None
    history: list[Attempt] = Field(default_factory=list)
    stop_reason: str = ""
    elapsed_s: float = 0.0
    tokens: int = 0
    artifacts_dir: str | None = None
    best_path: str | None = None  # file holding the best kernel (runs/<run_id>/best.py)
    error: str | None = None  # why the run stopped early (e.g. the coder's endpoint failed)
    analysis: dict = Field(default_factory=dict)  # the problem's captured op graph; `reason` says why not captured

    @property
    def solved(self) -> bool:
        return self.best_verdict is not None and self.best_verdict.correct
