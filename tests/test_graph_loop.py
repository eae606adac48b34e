"""The closed loop through run_graph: budgets, target stop, best kept, search tree, coder failures."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from kernelwright.agents.coder import CodeResult

from graph_helpers import EchoCoder, ScriptedVerifier, timed
from kernelwright import run_graph
from kernelwright.run import RunError

ROOT = Path(__file__).resolve().parents[1]
SOFTMAX = ROOT / "problems" / "softmax.py"


def run(tmp_path, verifier, coder=None, **kw):
    kw.setdefault("coder_factory", (lambda ctx: coder) if coder is not None else None)
    return run_graph(SOFTMAX, artifacts_dir=tmp_path, verifier=verifier, device="cpu", **kw)


def test_iteration_budget_stops_the_run(tmp_path):
    result = run(tmp_path, ScriptedVerifier([timed("incorrect")] * 10), EchoCoder(), iterations=3, fanout=1)
    assert result.stop_reason == "iterations"
    assert [a.iteration for a in result.history] == [1, 2, 3]
    assert not result.solved and result.best_path is None


def test_wall_time_budget_stops_the_run(tmp_path):
    def slow(problem, paths, options, device):
        time.sleep(0.4)
        return [timed("incorrect") for _ in paths]

    result = run(tmp_path, slow, EchoCoder(), budget_s=1.0, iterations=50, fanout=1)
    assert result.stop_reason == "wall_time"
    assert 1 <= len(result.history) <= 4  # 50 iterations were allowed: the clock stopped it


def test_token_budget_stops_the_run(tmp_path):
    result = run(tmp_path, ScriptedVerifier([]), EchoCoder(tokens=40), iterations=10, fanout=2, max_tokens=150)
    assert result.stop_reason == "tokens" and result.tokens == 160 and len(result.history) == 4


def test_target_speedup_stops_early(tmp_path):
    verdicts = [timed("correct", 1.0), timed("correct", 1.2), timed("correct", 0.4), timed("correct", 0.9)]
    result = run(tmp_path, ScriptedVerifier(verdicts), EchoCoder(), iterations=10, target_speedup=2.0)
    assert result.stop_reason == "target_speedup"
    assert result.best_attempt == 3 and result.best_verdict.speedups["eager"] == pytest.approx(2.5)
    assert len(result.history) == 4


def test_best_kernel_is_kept_when_later_attempts_fail_or_are_slower(tmp_path):
    verdicts = [timed("correct", 0.5), timed("compile_error"), timed("incorrect"), timed("correct", 0.9),
                timed("runtime_error"), timed("timeout")]
    coder = EchoCoder()
    result = run(tmp_path, ScriptedVerifier(verdicts), coder, iterations=3)
    assert result.best_attempt == 1 and result.solved
    assert Path(result.best_path).read_text() == (tmp_path / result.run_id / "attempt_1.py").read_text()
    assert [a.status for a in result.history] == ["correct", "compile_error", "incorrect", "correct",
                                                   "runtime_error", "timeout"]
    assert coder.requests[-1].best_source == Path(result.best_path).read_text()


def test_best_kernel_is_on_disk_as_soon_as_it_is_verified(tmp_path):
    verdicts = [timed("correct", 1.0), timed("correct", 0.5), timed("correct", 0.8)]

    def dies_on_the_third_call(problem, paths, options, device):
        if len(verdicts) == 1:
            raise RuntimeError("killed")  # the run dies before it can return a Result
        return [verdicts.pop(0) for _ in paths]

    with pytest.raises(RuntimeError, match="killed"):
        run(tmp_path, dies_on_the_third_call, EchoCoder(), iterations=5, fanout=1, run_id="r1")
    run_dir = tmp_path / "r1"
    assert (run_dir / "attempt_3.py").exists() and not (run_dir / "attempt_3.json").exists()
    assert (run_dir / "best.py").read_text() == (run_dir / "attempt_2.py").read_text()  # the faster second one


def test_history_is_a_tree_of_parents_and_strategies(tmp_path):
    # it 1: both fail (incorrect beats compile_error as the repair target); it 2: fixes of #1; it 3: tune best
    verdicts = [timed("incorrect"), timed("compile_error"), timed("correct"), timed("incorrect"),
                timed("correct"), timed("correct")]
    coder = EchoCoder()
    result = run(tmp_path, ScriptedVerifier(verdicts), coder, iterations=3)
    tree = [(a.id, a.parent, a.strategy) for a in result.history]
    assert tree == [(1, None, "first_draft"), (2, None, "first_draft"), (3, 1, "fix_numerics"),
                    (4, 1, "fix_numerics"), (5, 3, "tune_launch_config"), (6, 3, "tune_launch_config")]
    fix_request = coder.requests[2]
    assert fix_request.parent_source == (tmp_path / result.run_id / "attempt_1.py").read_text()
    assert "incorrect" in fix_request.feedback
    saved = json.loads((tmp_path / result.run_id / "attempt_2.json").read_text())
    assert saved["status"] == "compile_error"


def test_coder_exception_stops_the_run_with_its_message(tmp_path):
    class Down:
        name = "down"

        def generate(self, request):
            raise ConnectionError("endpoint http://127.0.0.1:9/v1 unreachable after 3 tries")

    result = run(tmp_path, ScriptedVerifier([]), Down(), iterations=5, fanout=1)
    assert result.stop_reason == "coder_error"
    assert "unreachable after 3 tries" in result.error
    assert [a.status for a in result.history] == ["coder_error"]


def test_a_template_family_with_every_config_tried_ends_as_exhausted_not_coder_error(tmp_path):
    result = run_graph(SOFTMAX, artifacts_dir=tmp_path, coder="template", iterations=20, device="cpu",
                       verifier=ScriptedVerifier([timed("incorrect")] * 20))
    assert result.stop_reason == "search_exhausted"
    spent = [a for a in result.history if a.status not in ("incorrect",)]
    assert spent and {a.status for a in spent} == {"exhausted"}
    assert spent[0].summary == "exhausted: all 6 configs of template rowwise tried"
    assert len(result.history) - len(spent) == 6  # each config verified once


def test_unparsable_candidate_is_a_compile_error_without_calling_the_verifier(tmp_path):
    class Broken(EchoCoder):
        def generate(self, request):
            return CodeResult(source="def oops(:\n")

    verifier = ScriptedVerifier([])
    result = run(tmp_path, verifier, Broken(), iterations=1, fanout=1)
    assert result.history[0].status == "compile_error" and verifier.calls == 0
    assert "syntax error" in result.history[0].summary


def test_problem_no_family_can_lower_stops_with_an_actionable_error(tmp_path):
    """Random numbers in forward cannot be captured: no family matches, the error says why and what to do."""
    source = SOFTMAX.read_text().replace('TEMPLATE = {"kind": "softmax"}', "").replace(
        "return torch.softmax(x, dim=-1)", "return torch.softmax(x + torch.rand_like(x), dim=-1)")
    assert "rand_like" in source
    result = run_graph(source, artifacts_dir=tmp_path, coder="template", iterations=3,
                       verifier=ScriptedVerifier([]))
    assert result.stop_reason == "coder_error"
    assert result.error.startswith("no template matches problem softmax_rows")
    assert result.error.endswith("configure an LLM endpoint (--base-url, --model)")
    assert result.analysis["captured"] is False and "random" in result.analysis["reason"]


def test_unannotated_problem_gets_a_kernel_from_the_lowered_family(tmp_path):
    """Without TEMPLATE metadata the general family writes the kernel; the run records the analysis."""
    source = SOFTMAX.read_text().replace('TEMPLATE = {"kind": "softmax"}', "")
    result = run_graph(source, artifacts_dir=tmp_path, coder="template", iterations=1,
                       verifier=ScriptedVerifier([timed("correct")]))
    assert result.history[0].meta["template"] == "lowered"
    assert result.analysis["category"] == "softmax"


def test_configured_llm_is_never_replaced_by_the_template_coder(tmp_path, monkeypatch):
    monkeypatch.setenv("KERNELWRIGHT_BASE_URL", "http://127.0.0.1:9/v1")
    from kernelwright.run import pick_coder

    assert pick_coder("auto", None, None) == "llm"
    monkeypatch.delenv("KERNELWRIGHT_BASE_URL")
    assert pick_coder("auto", None, None) == "template"
    with pytest.raises(RunError, match="coder 'nope' is not available"):
        run_graph(SOFTMAX, coder="nope", artifacts_dir=tmp_path)


def test_template_loop_with_the_real_verifier_reaches_a_correct_kernel(tmp_path):
    """The embedded default end to end: template coder, out-of-process verifier, Triton interpreter."""
    events = []
    result = run_graph(SOFTMAX, artifacts_dir=tmp_path, coder="template", device="cpu", iterations=2, fanout=2,
                       on_event=lambda mode, chunk: events.append((mode, chunk)))
    assert result.solved, [a.summary for a in result.history]
    assert result.best_verdict.status == "correct" and result.best_attempt == 1  # CPU: first correct is kept
    assert result.stop_reason == "iterations" and len(result.history) == 4
    run_dir = tmp_path / result.run_id
    assert (run_dir / "attempt_1.py").is_file() and (run_dir / "attempt_4.json").is_file()
    assert Path(result.best_path).read_text() == result.best_source
    kinds = {c.get("event") for m, c in events if m == "custom"}
    assert {"plan", "candidate", "verdict", "iteration"} <= kinds
    assert any(m == "updates" and "verify" in c for m, c in events)


def test_problem_object_keeps_its_name(tmp_path):
    from kernelwright.verifier.problem import load_problem

    problem = load_problem(SOFTMAX)
    problem.name = "my_softmax"
    result = run_graph(problem, artifacts_dir=tmp_path, iterations=1, fanout=1,
                       verifier=ScriptedVerifier([timed("correct")]))
    assert result.problem == "my_softmax" and result.solved and result.history[0].coder == "template"
