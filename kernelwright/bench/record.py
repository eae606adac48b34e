"""Turn one finished run (a `Result`) into the store's problem fields and attempt rows."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from kernelwright.result import Attempt, Result
from kernelwright.tools.opgraph import category_label


def _best_attempt(result: Result) -> Attempt | None:
    by_id = {a.id: a for a in result.history}
    if result.best_attempt is not None and result.best_attempt in by_id:
        return by_id[result.best_attempt]
    correct = [a for a in result.history if a.status == "correct"]
    if not correct:
        return None
    return max(correct, key=lambda a: (a.speedup_eager or 0.0, -a.finished_at))


def _speedups(result: Result, best: Attempt | None) -> tuple[float | None, float | None, bool]:
    verdict = result.best_verdict
    if verdict is not None and verdict.correct and verdict.speedups:
        return verdict.speedups.get("eager"), verdict.speedups.get("compile"), verdict.timing_meaningful
    if best is not None:
        meaningful = verdict.timing_meaningful if verdict is not None else best.speedup_eager is not None
        return best.speedup_eager, best.speedup_compile, meaningful
    return None, None, False


def policy_outcome(history: list[Attempt], policy: str) -> int | None:
    """1 when some attempt passes under `policy`, 0 when every attempt is known to fail there, else None
    (a strict run stops at a rule that kernelbench only flags, so kernelbench's answer stays open)."""
    answers = [a.policies.get(policy) for a in history if a.policies]  # attempts without a verdict have none
    if any(answers):
        return 1
    return 0 if all(x is False for x in answers) else None


def result_fields(result: Result, started_at: float) -> dict[str, Any]:
    """Problem-row fields of a finished run; times are seconds since the run started."""
    best = _best_attempt(result)
    solved = bool(result.solved or best is not None)
    eager, compile_, meaningful = _speedups(result, best) if solved else (None, None, False)
    correct_times = [a.finished_at for a in result.history if a.status == "correct" and a.finished_at]
    first = min(correct_times) - started_at if correct_times else None
    to_best = best.finished_at - started_at if best is not None and best.finished_at else None
    best_status = result.best_verdict.status if result.best_verdict is not None else (
        best.status if best is not None else (result.history[-1].status if result.history else "no_attempt")
    )
    return {
        "solved": int(solved),
        "best_status": best_status,
        "speedup_eager": eager,
        "speedup_compile": compile_,
        "best_median_ms": (result.best_verdict.timing.median_ms
                           if result.best_verdict is not None and result.best_verdict.timing else
                           (best.median_ms if best is not None else None)),
        "timing_meaningful": int(bool(meaningful)),
        "time_to_first_correct": max(first, 0.0) if first is not None else None,
        "time_to_best": max(to_best, 0.0) if to_best is not None else None,
        "elapsed_s": result.elapsed_s,
        "n_attempts": len(result.history),
        "run_id": result.run_id,
        "tokens": result.tokens,
        "stop_reason": result.stop_reason,
        "category": category_label(result.analysis or {}),  # tools/opgraph: matmul, conv, fused conv, ...
        "correct_strict": policy_outcome(result.history, "strict"),
        "correct_kernelbench": policy_outcome(result.history, "kernelbench"),
    }


def attempt_rows(result: Result, started_at: float) -> list[dict[str, Any]]:
    """Attempt rows with start/finish as seconds since the run started."""
    return [
        {
            "attempt": a.id, "iteration": a.iteration, "strategy": a.strategy, "coder": a.coder,
            "status": a.status, "speedup_eager": a.speedup_eager, "speedup_compile": a.speedup_compile,
            "median_ms": a.median_ms,
            "started_at": a.started_at - started_at if a.started_at else None,
            "finished_at": a.finished_at - started_at if a.finished_at else None,
        }
        for a in result.history
    ]


def save_best_kernel(result: Result, problem_key: str, kernels_dir: str | Path) -> str | None:
    """Write the best verified kernel to `kernels_dir/<problem>.py`; None when unsolved."""
    if not result.best_source:
        return None
    path = Path(kernels_dir) / (problem_key.replace("/", "__") + ".py")
    path.parent.mkdir(parents=True, exist_ok=True)
    header = f"# best kernel for {problem_key} (run {result.run_id})\n"
    path.write_text(header + result.best_source)
    return str(path)
