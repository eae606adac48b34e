"""Suite metrics over problem rows: correct rate, fast_p, geometric-mean speedup, times.

fast_p (KernelBench's definition): the share of ALL problems whose best kernel is correct AND
more than p times faster than the baseline. Failures, errors and (for p > 0) problems without
a meaningful timing count as not fast; fast_0 equals the correct rate. The geometric mean is over
solved problems with a speedup.
"""
from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, Field

FAST_P = (0.0, 1.0, 1.5, 2.0)
BASELINES = ("eager", "compile")


class BenchMetrics(BaseModel):
    """Everything the report prints about one bench."""

    problems: int = 0
    finished: int = 0
    correct: int = 0
    errors: int = 0
    correct_rate: float = 0.0
    fast_p: dict[str, dict[str, float]] = Field(default_factory=dict)  # baseline -> "1.5" -> share
    geomean_speedup: dict[str, float | None] = Field(default_factory=dict)
    timed: int = 0  # solved problems with a meaningful speedup
    time_to_first_correct_s: dict[str, Any] = Field(default_factory=dict)  # median, mean, max
    time_to_best_s: dict[str, Any] = Field(default_factory=dict)
    attempts: int = 0


def fast_p(rows: Iterable[Mapping[str, Any]], p: float, baseline: str = "eager") -> float:
    """Share of all rows that are solved with speedup > p against `baseline`."""
    rows = list(rows)
    if not rows:
        return 0.0
    key = f"speedup_{baseline}"
    if p <= 0:  # every correct kernel is "faster than 0x": fast_0 is the correct rate
        return sum(1 for r in rows if r.get("solved")) / len(rows)
    fast = sum(1 for r in rows if r.get("solved") and r.get(key) is not None and r[key] > p)
    return fast / len(rows)


def geomean(values: Iterable[float]) -> float | None:
    values = [v for v in values if v is not None and v > 0]
    if not values:
        return None
    return math.exp(sum(math.log(v) for v in values) / len(values))


def _spread(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"median": None, "mean": None, "max": None, "n": 0}
    return {"median": statistics.median(values), "mean": statistics.fmean(values), "max": max(values), "n": len(values)}


def summarize(rows: Iterable[Mapping[str, Any]]) -> BenchMetrics:
    """Metrics over problem rows (dicts with solved, speedup_eager, speedup_compile, times...)."""
    rows = list(rows)
    n = len(rows)
    solved = [r for r in rows if r.get("solved")]
    out = BenchMetrics(
        problems=n,
        finished=sum(1 for r in rows if r.get("status", "done") in ("done", "error")),
        correct=len(solved),
        errors=sum(1 for r in rows if r.get("status") == "error"),
        correct_rate=len(solved) / n if n else 0.0,
        attempts=sum(int(r.get("n_attempts") or 0) for r in rows),
    )
    for base in BASELINES:
        out.fast_p[base] = {f"{p:g}": fast_p(rows, p, base) for p in FAST_P}
        out.geomean_speedup[base] = geomean(r.get(f"speedup_{base}") for r in solved)
    out.timed = sum(1 for r in solved if r.get("speedup_eager") is not None)
    out.time_to_first_correct_s = _spread([r["time_to_first_correct"] for r in solved
                                           if r.get("time_to_first_correct") is not None])
    out.time_to_best_s = _spread([r["time_to_best"] for r in solved if r.get("time_to_best") is not None])
    return out
