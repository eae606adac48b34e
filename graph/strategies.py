"""Search strategies: when each applies (a predicate on the history) and what it asks a coder to do.

A strategy is one `Strategy` value registered under its name in the plugin registry, so a new
strategy is one small file with a `register("strategy", name)(Strategy(...))` line. The planner
picks the critic's hint when it applies, else the applicable strategy with the highest priority.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kernelwright.graph.plugins import register, registry
from kernelwright.graph.state import NO_CODE_STATUSES


@dataclass
class History:
    """A read-only view of the search so far, built from the graph state for the predicates."""

    attempts: list[dict[str, Any]]
    best: dict[str, Any] | None = None
    iteration: int = 0
    stall: int = 0
    stall_limit: int = 3
    backends: list[str] = field(default_factory=lambda: ["triton"])
    last_strategy: str | None = None

    @classmethod
    def from_state(cls, state: Mapping[str, Any], stall_limit: int = 3, backends: list[str] | None = None) -> History:
        plan = state.get("plan") or {}
        return cls(
            attempts=list(state.get("attempts") or []),
            best=state.get("best"),
            iteration=int(state.get("iteration") or 0),
            stall=int(state.get("stall") or 0),
            stall_limit=stall_limit,
            backends=backends or ["triton"],
            last_strategy=plan.get("strategy"),
        )

    @property
    def last_round(self) -> list[dict[str, Any]]:
        """Attempts of the latest iteration that has any."""
        if not self.attempts:
            return []
        last = self.attempts[-1].get("iteration")
        out = []
        for attempt in reversed(self.attempts):
            if attempt.get("iteration") != last:
                break
            out.append(attempt)
        return out[::-1]

    def focus_failure(self) -> dict[str, Any] | None:
        """The failed attempt of the last round most worth repairing (closest to correct first)."""
        rank = {"incorrect": 0, "rejected": 1, "runtime_error": 2, "timeout": 3, "compile_error": 4}
        failed = [a for a in self.last_round if a.get("status") in rank]
        if not failed:
            return None
        return min(failed, key=lambda a: (rank[a["status"]], -a["id"]))

    def failure_status(self) -> str | None:
        focus = self.focus_failure()
        round_ok = any(a.get("status") == "correct" for a in self.last_round)
        return None if focus is None or round_ok else focus["status"]

    def bound(self) -> str | None:
        """'memory' or 'compute' from the best kernel's profile, when timings are meaningful."""
        if not self.best or not self.best.get("timing_meaningful"):
            return None
        profile = (self.best.get("verdict") or {}).get("profile") or {}
        figures = profile.get("figures") or {}
        bound = str(figures.get("bound") or "").lower()
        if bound in ("memory", "compute"):
            return bound
        text = str(profile.get("diagnosis") or "").lower()
        if "compute-bound" in text or "memory-bound" in text:
            return "compute" if "compute-bound" in text else "memory"
        return None  # no profile: neither optimisation strategy is chosen on a guess

    @property
    def current_backend(self) -> str:
        for attempt in reversed(self.attempts):
            if attempt.get("backend"):
                return attempt["backend"]
        return self.backends[0]


@dataclass(frozen=True)
class Strategy:
    """A named way to produce the next candidates."""

    name: str
    applies: Callable[[History], bool]
    instructions: str
    priority: int = 0
    parent: str = "none"  # which attempt the new candidates build on: none | failure | best


def _has_code(h: History) -> bool:
    return any(a.get("status") not in NO_CODE_STATUSES for a in h.attempts)


BUILTIN: list[Strategy] = [
    Strategy("first_draft", lambda h: not _has_code(h), priority=100, parent="none", instructions=(
        "Write a first correct kernel for the problem. Favour clarity and correctness: masked tails, "
        "fp32 accumulation, numerically stable formulations. Speed comes later.")),
    Strategy("diversify", lambda h: h.stall >= h.stall_limit and h.stall % h.stall_limit == 0,
             priority=90, parent="none", instructions=(
        "The search has stalled. Start over with a clearly different algorithm or tiling than the "
        "attempts so far (different parallelisation axis, different block shape, different fusion).")),
    Strategy("switch_backend",
             lambda h: h.best is None and len(h.backends) > 1 and h.stall >= 2 and h.last_strategy != "switch_backend",
             priority=85, parent="none", instructions=(
        "Attempts in the current backend keep failing. Write the kernel in the other backend "
        "(Triton <-> raw CUDA through CuPy RawKernel or torch load_inline).")),
    Strategy("fix_compile_error", lambda h: h.failure_status() == "compile_error", priority=70, parent="failure",
             instructions=("The parent kernel does not compile or load. Read the compiler log, fix the cause, "
                           "keep the rest of the design.")),
    Strategy("fix_runtime_error", lambda h: h.failure_status() in ("runtime_error", "timeout"), priority=70,
             parent="failure", instructions=(
        "The parent kernel crashed, raised or timed out at run time. Check index arithmetic, masks, "
        "grid size, pointer strides and loop bounds; make sure every loop terminates.")),
    Strategy("fix_numerics", lambda h: h.failure_status() in ("incorrect", "rejected"), priority=70,
             parent="failure", instructions=(
        "The parent kernel runs but its output is wrong (or the verifier rejected how it computes). "
        "Use the reported error figures and failing shapes: check tails, reductions, accumulation "
        "precision, max-subtraction, broadcasting. Compute the result in your own kernel only.")),
    Strategy("optimise_memory", lambda h: h.bound() == "memory", priority=60, parent="best", instructions=(
        "The best kernel is memory-bound. Cut global memory traffic: fuse passes, vectorise loads, "
        "keep data in registers/shared memory, avoid re-reading inputs, coalesce accesses.")),
    Strategy("optimise_compute", lambda h: h.bound() == "compute", priority=60, parent="best", instructions=(
        "The best kernel is compute-bound. Use tensor cores (tl.dot) where possible, cheaper math "
        "(exp2 with folded log2(e)), fewer instructions per element, better occupancy.")),
    Strategy("tune_launch_config", lambda h: h.best is not None, priority=50, parent="best", instructions=(
        "Keep the algorithm of the best kernel; change its launch configuration (block sizes, "
        "num_warps, num_stages, grid shape) to one not tried yet.")),
    Strategy("refine_best", lambda h: h.best is not None, priority=40, parent="best", instructions=(
        "Improve the best kernel so far with small, safe changes; keep it correct.")),
]

for _strategy in BUILTIN:
    register("strategy", _strategy.name)(_strategy)


def enabled_strategies(names: list[str] | None = None) -> list[Strategy]:
    """Registered strategies, restricted to `names` when given (unknown names: one-line error)."""
    known = registry("strategy")
    if names is None:
        return list(known.values())
    missing = [n for n in names if n not in known]
    if missing:
        raise ValueError(f"unknown strategy {missing[0]!r}; known: {', '.join(sorted(known))}")
    return [known[n] for n in names]


def choose(history: History, strategies: list[Strategy], hint: str | None = None) -> Strategy | None:
    """The hinted strategy when it applies, else the applicable one with the highest priority."""
    applicable = [s for s in strategies if s.applies(history)]
    for strategy in applicable:
        if strategy.name == hint:
            return strategy
    return max(applicable, key=lambda s: s.priority, default=None)
