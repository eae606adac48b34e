"""`kernelwright bench` reports problems correct under each verifier policy (issue 16 item 5)."""
from pathlib import Path

from kernelwright.bench.record import result_fields
from kernelwright.bench.report import policy_table
from kernelwright.bench.runner import BenchConfig, _run_options
from kernelwright.result import Attempt, Result


def attempt(i: int, status: str, policies: dict) -> Attempt:
    return Attempt(id=i, iteration=0, strategy="first_draft", coder="template", status=status, policies=policies)


def fields(*attempts: Attempt) -> dict:
    return result_fields(Result(run_id="r", problem="p", history=list(attempts)), started_at=0.0)


def test_a_kernel_with_pytorch_ops_is_correct_only_under_kernelbench():
    out = fields(attempt(0, "correct", {"strict": False, "kernelbench": True}))
    assert (out["correct_strict"], out["correct_kernelbench"]) == (0, 1)


def test_a_strict_stop_leaves_kernelbench_open_until_some_attempt_decides():
    stopped = attempt(0, "rejected", {"strict": False, "kernelbench": None})
    assert fields(stopped)["correct_kernelbench"] is None
    assert fields(stopped, attempt(1, "correct", {"strict": True, "kernelbench": True}))["correct_kernelbench"] == 1
    assert fields(attempt(0, "incorrect", {"strict": False, "kernelbench": False}))["correct_kernelbench"] == 0


def test_attempts_without_a_verdict_decide_nothing():
    out = fields(attempt(0, "coder_error", {}))
    assert (out["correct_strict"], out["correct_kernelbench"]) == (0, 0)


def test_policy_table_counts_each_answer():
    rows = [{"status": "done", "correct_strict": 1, "correct_kernelbench": 1},
            {"status": "done", "correct_strict": 0, "correct_kernelbench": 1},
            {"status": "done", "correct_strict": 0, "correct_kernelbench": None},
            {"status": "error", "correct_strict": None, "correct_kernelbench": None}]
    table = policy_table(rows, "strict")
    assert table.rows == [["strict", 1, 2, 0], ["kernelbench", 2, 0, 1]]


def test_bench_policy_reaches_every_run_and_the_bench_id(tmp_path: Path):
    config = BenchConfig(suite_dir=str(tmp_path / "suite"), policy="kernelbench",
                         run_options={"verify_options": {"trials": 3}})
    options = _run_options(config, "b", "p", tmp_path)
    assert options["verify_options"] == {"trials": 3, "policy": "kernelbench"}
    assert config.resolved_bench_id().endswith("-kernelbench")
    assert "policy" not in _run_options(BenchConfig(suite_dir="s"), "b", "p", tmp_path).get("verify_options", {})
