"""Metrics on synthetic rows and Results: fast_p exact values, geomean, times to correct/best."""
import math

import pytest
from kernelwright.verifier.verdict import Verdict

from kernelwright.bench.metrics import fast_p, geomean, summarize
from kernelwright.bench.record import attempt_rows, result_fields
from kernelwright.result import Attempt, Result

ROWS = [
    {"problem": "a", "status": "done", "solved": 1, "speedup_eager": 2.5, "speedup_compile": 1.2,
     "time_to_first_correct": 10.0, "time_to_best": 40.0, "n_attempts": 4},
    {"problem": "b", "status": "done", "solved": 1, "speedup_eager": 1.5, "speedup_compile": 0.9,
     "time_to_first_correct": 30.0, "time_to_best": 30.0, "n_attempts": 3},
    {"problem": "c", "status": "done", "solved": 1, "speedup_eager": 0.8, "speedup_compile": 0.5,
     "time_to_first_correct": 50.0, "time_to_best": 60.0, "n_attempts": 5},
    {"problem": "d", "status": "done", "solved": 1, "speedup_eager": None, "speedup_compile": None,
     "time_to_first_correct": 5.0, "time_to_best": 5.0, "n_attempts": 1},
    {"problem": "e", "status": "done", "solved": 0, "speedup_eager": 9.0, "speedup_compile": 9.0,
     "n_attempts": 6},  # wrong but fast: not fast
    {"problem": "f", "status": "error", "solved": 0, "error": "boom", "n_attempts": 0},
]


def test_fast_p_counts_failures_as_not_fast_over_all_problems():
    assert fast_p(ROWS, 0.0) == pytest.approx(4 / 6)  # fast_0 is the correct rate
    assert fast_p(ROWS, 1.0) == pytest.approx(2 / 6)
    assert fast_p(ROWS, 1.5) == pytest.approx(1 / 6)  # strictly faster: 1.5x is not > 1.5
    assert fast_p(ROWS, 2.0) == pytest.approx(1 / 6)
    assert fast_p(ROWS, 1.0, "compile") == pytest.approx(1 / 6)
    assert fast_p([], 1.0) == 0.0


def test_summary_geomean_and_time_spreads():
    m = summarize(ROWS)
    assert (m.problems, m.correct, m.errors, m.timed, m.attempts) == (6, 4, 1, 3, 19)
    assert m.correct_rate == pytest.approx(4 / 6)
    assert m.fast_p["eager"] == pytest.approx({"0": 4 / 6, "1": 2 / 6, "1.5": 1 / 6, "2": 1 / 6})
    assert m.geomean_speedup["eager"] == pytest.approx(math.exp((math.log(2.5) + math.log(1.5) + math.log(0.8)) / 3))
    assert m.time_to_first_correct_s["median"] == pytest.approx(20.0)
    assert m.time_to_best_s["max"] == pytest.approx(60.0)
    assert geomean([]) is None


def test_result_fields_from_attempt_timestamps():
    t0 = 1000.0
    history = [
        Attempt(id=0, iteration=0, strategy="first_draft", coder="template", status="compile_error", started_at=t0 + 1,
                finished_at=t0 + 4),
        Attempt(id=1, iteration=1, strategy="fix_compile_error", coder="template", status="correct", speedup_eager=1.1,
                started_at=t0 + 4, finished_at=t0 + 9),
        Attempt(id=2, iteration=2, strategy="tune_launch_config", coder="template", status="correct", speedup_eager=1.8,
                started_at=t0 + 9, finished_at=t0 + 21),
    ]
    verdict = Verdict(status="correct", stage="done", speedups={"eager": 1.8, "compile": 1.3}, timing_meaningful=True)
    result = Result(run_id="r", problem="p", best_source="src", best_verdict=verdict, best_attempt=2, history=history,
                    elapsed_s=22.0)
    fields = result_fields(result, started_at=t0)
    assert fields["solved"] == 1 and fields["best_status"] == "correct"
    assert fields["time_to_first_correct"] == pytest.approx(9.0)
    assert fields["time_to_best"] == pytest.approx(21.0)
    assert (fields["speedup_eager"], fields["speedup_compile"]) == (1.8, 1.3)
    rows = attempt_rows(result, started_at=t0)
    assert [r["finished_at"] for r in rows] == [4.0, 9.0, 21.0]


def test_unsolved_result_has_no_speedup_or_times():
    history = [Attempt(id=0, iteration=0, strategy="first_draft", coder="t", status="incorrect", started_at=1.0,
                       finished_at=2.0)]
    fields = result_fields(Result(run_id="r", problem="p", history=history), started_at=0.0)
    assert fields["solved"] == 0 and fields["best_status"] == "incorrect"
    assert fields["speedup_eager"] is None and fields["time_to_first_correct"] is None
