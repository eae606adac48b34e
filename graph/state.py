"""Graph state: plain JSON values only, so checkpoints and LangGraph Studio show it as it is.

`InputState` is what a caller provides; `State` is everything the nodes read and write.
An attempt is one candidate kernel in the search tree (see `AttemptRecord`); sources live in the
run's artifact folder, not in the state, so checkpoints stay small with long histories.
"""
from __future__ import annotations

import operator
import time
import uuid
from typing import Annotated, Any

from typing_extensions import TypedDict


class InputState(TypedDict, total=False):
    """What starts a run: a problem (path or source text) and optionally a run id."""

    problem_path: str
    problem_source: str
    problem_name: str  # optional override of the problem's NAME
    run_id: str


def new_run_id() -> str:
    """A short sortable run id: UTC time plus random suffix."""
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + "-" + uuid.uuid4().hex[:6]


NO_CODE_STATUSES = ("coder_error", "exhausted")
"""Attempt statuses without a candidate: the coder failed, or its template family tried every config."""


class VerdictDigest(TypedDict, total=False):
    """The parts of a verifier verdict the critic and planner read (full JSON is on disk)."""

    status: str
    stage: str
    message: str
    rule: str | None
    flags: list[str]
    logs: str
    worst_trial: dict[str, Any] | None
    median_ms: float | None
    speedups: dict[str, float]
    timing_meaningful: bool
    diagnosis: str
    figures: dict[str, Any]


class _Lineage(TypedDict, total=False):
    """Fields shared by a pending candidate and the attempt it becomes."""

    id: int
    parent: int | None
    iteration: int
    strategy: str
    coder: str
    backend: str
    tokens: int
    started_at: float
    finished_at: float
    error: str | None
    meta: dict[str, Any]


class AttemptRecord(_Lineage, total=False):
    """One candidate: where it came from, what the verifier said, how fast it was."""

    status: str          # a verdict status, or one of NO_CODE_STATUSES when no code came back
    summary: str
    verdict: VerdictDigest
    median_ms: float | None
    speedup_eager: float | None
    speedup_compile: float | None
    timing_meaningful: bool
    source_path: str | None
    verdict_path: str | None


class Candidate(_Lineage, total=False):
    """A coder's output waiting for precheck/verify (lives in `pending` for one step)."""

    source: str | None


class BestKernel(TypedDict, total=False):
    """The best verified kernel so far (always kept)."""

    attempt: int
    source: str
    median_ms: float | None
    speedup_eager: float | None
    timing_meaningful: bool
    verdict: dict[str, Any]  # full Verdict JSON


class CodeTask(TypedDict):
    """One planned candidate: what the planner decided for it."""

    id: int
    parent: int | None
    iteration: int
    strategy: str
    instructions: str
    backend: str
    attempt_index: int
    coder: str


class Plan(TypedDict, total=False):
    """The planner's decision for one iteration."""

    strategy: str | None
    iteration: int
    parent: int | None
    tasks: list[CodeTask]


class CodePayload(TypedDict):
    """What `Send("code", ...)` carries: the task and the coder's request (CodeRequest fields)."""

    task: CodeTask
    request: dict[str, Any]
    run_started_at: float | None  # the run's start, for the coder's deadline (budget end)


def merge_pending(left: list[Candidate] | None, right: list[Candidate] | None) -> list[Candidate]:
    """Coders append candidates; the verify node clears the list by writing None."""
    if right is None:
        return []
    return list(left or []) + list(right)


class State(InputState, total=False):
    """Full graph state."""

    description: str
    problem_meta: dict[str, Any]
    analysis: dict[str, Any]  # tools.opgraph.analyze_problem: op graph, FLOPs, bytes, category, speed of light
    run_dir: str
    started_at: float
    elapsed_s: float
    iteration: int
    next_id: int
    plan: Plan
    precheck: dict[str, dict[str, Any]]  # attempt id (str) -> verdict JSON from the precheck
    pending: Annotated[list[Candidate], merge_pending]
    attempts: Annotated[list[AttemptRecord], operator.add]
    best: BestKernel | None
    feedback: dict[str, str]  # attempt id (str) -> critic feedback; "" -> round summary
    hint: str | None
    stall: int
    tokens: int
    stop_reason: str
    error: str | None
