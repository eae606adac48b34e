"""Strategy choice, stop rules and critic feedback from synthetic histories (no kernels run)."""
from __future__ import annotations

from kernelwright.graph.context import Context
from kernelwright.graph.nodes.critique import feedback_for
from kernelwright.graph.routing import route_after_critique, stop_reason
from kernelwright.graph.strategies import History, choose, enabled_strategies


def att(id_, status, iteration, **kw):
    return {"id": id_, "status": status, "iteration": iteration, "strategy": "x", "meta": {}, **kw}


def pick(attempts, best=None, stall=0, hint=None, backends=None, last=None):
    h = History(attempts=attempts, best=best, stall=stall, backends=backends or ["triton"], last_strategy=last)
    s = choose(h, enabled_strategies(), hint)
    return s.name if s else None


def test_empty_history_starts_with_first_draft():
    assert pick([]) == "first_draft"


def test_attempts_without_code_leave_the_first_draft_to_do():
    assert pick([att(1, "coder_error", 1)]) == "first_draft"
    assert pick([att(1, "exhausted", 1)]) == "first_draft"


def test_exhausted_attempt_feedback_says_the_search_is_spent():
    from kernelwright.graph.nodes.critique import feedback_for

    spent = att(3, "exhausted", 2, summary="exhausted: all 6 configs of template rowwise tried")
    assert feedback_for(spent) == "Attempt 3 produced no code: exhausted: all 6 configs of template rowwise tried"


def test_failures_choose_the_matching_fix():
    assert pick([att(1, "compile_error", 1)], stall=1) == "fix_compile_error"
    assert pick([att(1, "timeout", 1)], stall=1) == "fix_runtime_error"
    assert pick([att(1, "runtime_error", 1)], stall=1) == "fix_runtime_error"
    assert pick([att(1, "incorrect", 1)], stall=1) == "fix_numerics"
    assert pick([att(1, "rejected", 1)], stall=1) == "fix_numerics"


def test_fix_targets_the_failure_closest_to_correct():
    h = History(attempts=[att(1, "compile_error", 1), att(2, "incorrect", 1), att(3, "timeout", 1)])
    assert h.focus_failure()["id"] == 2
    assert pick(h.attempts, stall=1) == "fix_numerics"


def test_only_coder_errors_keep_first_draft():
    assert pick([att(1, "coder_error", 1)], stall=1) == "first_draft"


def test_stall_without_best_switches_backend_then_diversifies():
    fails = [att(1, "incorrect", 1), att(2, "incorrect", 2)]
    assert pick(fails, stall=2, backends=["triton", "cupy"]) == "switch_backend"
    assert pick(fails, stall=2, backends=["triton", "cupy"], last="switch_backend") == "fix_numerics"
    assert pick(fails, stall=2, backends=["triton"]) == "fix_numerics"
    assert pick(fails, stall=3) == "diversify"


def test_with_a_best_kernel_the_hint_decides():
    best = {"attempt": 1, "timing_meaningful": False}
    hist = [att(1, "correct", 1)]
    assert pick(hist, best=best) == "tune_launch_config"
    assert pick(hist, best=best, hint="refine_best") == "refine_best"
    # a hint that does not apply is ignored
    assert pick(hist, best=best, hint="fix_compile_error") == "tune_launch_config"


def test_profile_bound_picks_memory_or_compute_optimisation():
    mem = {"attempt": 1, "timing_meaningful": True, "verdict": {"profile": {"figures": {"bound": "memory"}}}}
    comp = {"attempt": 1, "timing_meaningful": True,
            "verdict": {"profile": {"diagnosis": "compute-bound: 80% of FMA peak"}}}
    assert pick([att(1, "correct", 1)], best=mem) == "optimise_memory"
    assert pick([att(1, "correct", 1)], best=comp) == "optimise_compute"


def test_enabled_strategies_restricts_choice_and_rejects_unknown_names():
    h = History(attempts=[att(1, "correct", 1)], best={"attempt": 1})
    only = enabled_strategies(["refine_best"])
    assert choose(h, only).name == "refine_best"
    try:
        enabled_strategies(["no_such"])
    except ValueError as exc:
        assert "no_such" in str(exc) and "first_draft" in str(exc)
    else:
        raise AssertionError("unknown strategy accepted")


def test_stop_reasons_in_priority_order():
    ctx = Context(budget_s=10, max_iterations=3, max_tokens=100, target_speedup=2.0)
    base = {"iteration": 1, "tokens": 0, "elapsed_s": 1.0, "best": None}
    assert stop_reason(base, [], ctx) == ("", None)
    assert stop_reason({**base, "iteration": 3}, [], ctx)[0] == "iterations"
    assert stop_reason({**base, "tokens": 100}, [], ctx)[0] == "tokens"
    assert stop_reason({**base, "elapsed_s": 10.5}, [], ctx)[0] == "wall_time"
    fast = {"attempt": 1, "speedup_eager": 2.5, "timing_meaningful": True}
    assert stop_reason({**base, "best": fast}, [], ctx)[0] == "target_speedup"
    untimed = {**fast, "timing_meaningful": False}
    assert stop_reason({**base, "best": untimed}, [], ctx)[0] == ""
    fatal = [att(1, "coder_error", 1, error="endpoint down", meta={"fatal": True})]
    assert stop_reason(base, fatal, ctx) == ("coder_error", "endpoint down")
    spent = [att(1, "exhausted", 1, meta={"exhausted": True}), att(2, "exhausted", 1, meta={"exhausted": True})]
    assert stop_reason(base, spent, ctx)[0] == "search_exhausted"


def test_route_after_critique():
    assert route_after_critique({"stop_reason": ""}) == "plan"
    assert route_after_critique({"stop_reason": "wall_time"}) == "__end__"


def test_feedback_carries_compiler_log_and_error_figures():
    ce = att(4, "compile_error", 2, verdict={"stage": "compile", "message": "CompilationError at line 12",
                                             "logs": "ValueError: unsupported tensor index"})
    text = feedback_for(ce)
    assert "CompilationError at line 12" in text and "unsupported tensor index" in text
    bad = att(5, "incorrect", 2, verdict={"stage": "correctness", "rule": "extra_shape", "message": "wrong at 127x1029",
                                          "worst_trial": {"trial": 3, "kind": "extra_shape", "shape": "(127, 1029)",
                                                          "max_abs_err": 0.25, "mismatched": 9}})
    text = feedback_for(bad)
    assert "extra_shape" in text and "(127, 1029)" in text and "0.25" in text and "9 elements" in text
    ok = att(6, "correct", 2, verdict={"stage": "done", "timing_meaningful": True, "median_ms": 0.5,
                                       "speedups": {"eager": 1.7}, "diagnosis": "memory-bound at 62% of peak"})
    text = feedback_for(ok)
    assert "0.5000 ms" in text and "1.70x" in text and "62% of peak" in text
