"""The offline bench's tuning walk on the GPU: after the first correct config it keeps the fastest."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import kernelwright.agents.template_coder as template_coder
import pytest
from kernelwright.verifier.problem import load_problem
from kernelwright.verifier.verdict import TimingStats, Verdict

from kernelwright.bench import offline_solve

PROBLEM = Path(__file__).resolve().parents[1] / "problems" / "kb" / "fused_gemm_sigmoid_sum.py"


def stats(ms: float) -> TimingStats:
    return TimingStats(median_ms=ms, mean_ms=ms, std_ms=0.0, min_ms=ms, max_ms=ms, n=10)


def fake_walk(monkeypatch, verdicts: list[Verdict]) -> list[int]:
    """Configs 0, 1, ... judged by `verdicts` in order; the indices the coder was asked for."""
    asked: list[int] = []

    class Coder:
        def __init__(self, only=None):
            pass

        def generate(self, request):
            asked.append(len(request.tried))
            return SimpleNamespace(source="candidate", error=None,
                                   meta={"template": "lowered", "config": {"index": len(request.tried)}})

    monkeypatch.setattr(template_coder, "TemplateCoder", Coder)
    monkeypatch.setattr("kernelwright.verify", lambda *a, **k: verdicts[len(asked) - 1])
    return asked


def correct(ms: float, eager: float) -> Verdict:
    return Verdict(status="correct", stage="done", timing=stats(ms), speedups={"eager": eager / ms},
                   timing_meaningful=True)


WRONG = Verdict(status="incorrect", stage="correctness", message="output 0: max abs err 1.0")


@pytest.mark.parametrize("tune_s, tried, best_index, ms", [
    (0.0, 1, 0, 2.0),     # no tuning: the first correct config is the answer
    (600.0, 3, 2, 1.0),   # tuning: every config tried, the fastest correct one kept
])
def test_tuning_keeps_the_fastest_correct_config(monkeypatch, tune_s, tried, best_index, ms):
    asked = fake_walk(monkeypatch, [correct(2.0, 2.0), WRONG, correct(1.0, 2.0)])
    reports: list[dict] = []
    out = offline_solve.solve_direct(load_problem(PROBLEM), configs=3, workdir="/tmp", device="cuda",
                                     tune_s=tune_s, report=lambda rec: reports.append(dict(rec)))
    assert len(asked) == tried and out["attempts"] == tried
    assert out["status"] == "correct" and out["config_index"] == best_index
    assert out["median_ms"] == ms and out["speedup_eager"] == pytest.approx(2.0 / ms)
    assert [r["median_ms"] for r in reports] == ([2.0] if tune_s == 0 else [2.0, 1.0])
    assert [step["status"] for step in out["walk"]] == ["correct", "incorrect", "correct"][:tried]
    if tune_s:  # each config walked is on record: its time when correct, its reason when not
        assert "max abs err 1.0" in out["walk"][1]["reason"]
        assert [step.get("median_ms") for step in out["walk"]] == [2.0, None, 1.0]


def test_a_slower_later_config_does_not_replace_the_best(monkeypatch):
    fake_walk(monkeypatch, [WRONG, correct(1.0, 1.5), correct(3.0, 1.5)])
    out = offline_solve.solve_direct(load_problem(PROBLEM), configs=3, workdir="/tmp", device="cuda", tune_s=600.0)
    assert out["attempts"] == 3 and out["config_index"] == 1 and out["median_ms"] == 1.0


def test_no_correct_config_reports_the_last_verdict(monkeypatch):
    fake_walk(monkeypatch, [WRONG, Verdict(status="timeout", stage="correctness", message="call took 120 s")])
    out = offline_solve.solve_direct(load_problem(PROBLEM), configs=2, workdir="/tmp", device="cuda", tune_s=600.0)
    assert out["status"] == "timeout" and "120 s" in out["reason"] and "median_ms" not in out


def test_the_parent_reads_the_last_record_printed_before_a_cut(capsys, monkeypatch):
    """A problem process cut off mid-walk has printed its best verified record; the parent reads that one."""
    def walk(problem, configs, workdir, device, families, tune_s, report):
        report({"status": "correct", "median_ms": 2.0})
        report({"status": "correct", "median_ms": 1.0})
        raise SystemExit  # killed before the final line

    monkeypatch.setattr(offline_solve, "solve_direct", walk)
    with pytest.raises(SystemExit):
        offline_solve.child(str(PROBLEM), configs=3, graph=None, device="cuda", tune_s=600.0)
    record = offline_solve.marked("noise\n" + capsys.readouterr().out)
    assert record is not None and record["median_ms"] == 1.0 and record["category"] == "fused matmul"
    assert offline_solve.marked("no marked line\n") is None
