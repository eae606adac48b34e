"""Inference-time scaling curve: share of problems solved within a budget per problem.

Built from attempt timestamps (seconds since each run started): a problem counts as solved
at budget t when one of its attempts finished correct by t. The same curve for fast_1
(a correct attempt faster than eager) is drawn when timings were meaningful.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any


def first_times(attempts: Iterable[Mapping[str, Any]], min_speedup: float | None = None) -> dict[str, float]:
    """Per problem, the earliest finish time of a correct attempt (faster than `min_speedup`)."""
    best: dict[str, float] = {}
    for a in attempts:
        if a.get("status") != "correct" or a.get("finished_at") is None:
            continue
        if min_speedup is not None and not ((a.get("speedup_eager") or 0.0) > min_speedup):
            continue
        key = a["problem"]
        best[key] = min(best.get(key, float("inf")), float(a["finished_at"]))
    return best


def solve_curve(times: Mapping[str, float], n_problems: int, budgets: list[float]) -> list[tuple[float, float]]:
    """(budget, share of all `n_problems` solved by then) for each budget."""
    if n_problems <= 0:
        return [(b, 0.0) for b in budgets]
    values = sorted(times.values())
    return [(b, sum(1 for t in values if t <= b) / n_problems) for b in budgets]


def budget_grid(times: Iterable[float], max_budget: float | None, points: int = 50) -> list[float]:
    """Budgets to evaluate: every event time plus an even grid up to the largest budget."""
    times = sorted(set(float(t) for t in times))
    top = max([max_budget or 0.0, *(times or [0.0])]) or 1.0
    grid = [top * i / (points - 1) for i in range(points)]
    return sorted(set(grid) | set(times))


def curves(problems: list[Mapping[str, Any]], attempts: list[Mapping[str, Any]],
           max_budget: float | None) -> dict[str, list[tuple[float, float]]]:
    """The solved and fast_1 curves of one bench."""
    n = len(problems)
    solved = first_times(attempts)
    fast = first_times(attempts, min_speedup=1.0)
    grid = budget_grid([*solved.values(), *fast.values()], max_budget)
    out = {"solved": solve_curve(solved, n, grid)}
    if fast:
        out["fast_1 (vs eager)"] = solve_curve(fast, n, grid)
    return out


def plot_scaling(curve_sets: Mapping[str, Mapping[str, list[tuple[float, float]]]], path: str | Path, title: str,
                 caption: str = "") -> str:
    """Draw one line per (bench, curve) as a step plot into a PNG; returns the path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=120)
    for bench_id, sets in curve_sets.items():
        for name, points in sets.items():
            if not points:
                continue
            xs, ys = zip(*points)
            label = name if len(curve_sets) == 1 else f"{bench_id}: {name}"
            ax.step(xs, [100 * y for y in ys], where="post", label=label)
    ax.set_xlabel("budget per problem (s)")
    ax.set_ylabel("problems (%)")
    ax.set_ylim(0, 102)
    ax.grid(alpha=0.3)
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize=8)
    if caption:
        import textwrap

        fig.text(0.01, 0.005, textwrap.fill(caption, 150), fontsize=5.5, color="gray", va="bottom")
    fig.tight_layout(rect=(0, 0.06 if caption else 0, 1, 1))
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return str(path)
