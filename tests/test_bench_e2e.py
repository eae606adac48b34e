"""End to end: the bench over the real run_graph with the offline template coder on the CPU."""
import shutil
from pathlib import Path

import pytest

from kernelwright.bench import BenchConfig, run_bench
from kernelwright.bench.report import write_report
from kernelwright.bench.store import BenchStore

ROOT = Path(__file__).parents[1]


@pytest.mark.slow
def test_bench_runs_run_graph_with_the_template_coder(tmp_path):
    suite = tmp_path / "suite"
    suite.mkdir()
    shutil.copy(ROOT / "problems" / "softmax.py", suite / "softmax.py")
    config = BenchConfig(suite_dir=str(suite), db=str(tmp_path / "b.sqlite"), artifacts_dir=str(tmp_path / "art"),
                         budget_s=120, iterations=2, coder="template", devices="cpu", worker_mode="thread")
    outcome = run_bench(config)
    assert outcome.ran == ["softmax"]
    row = BenchStore(config.db).problems(outcome.bench_id)[0]
    assert row["status"] == "done", row["error"]
    attempts = BenchStore(config.db).attempts(outcome.bench_id)
    assert len(attempts) >= 1 and all(a["finished_at"] >= a["started_at"] >= 0 for a in attempts)
    assert row["solved"] == 1, f"template coder did not solve softmax: {[a['status'] for a in attempts]}"
    assert Path(row["best_kernel_path"]).read_text().count("class ModelNew") == 1
    stats = outcome.stats  # the real verifier pool was timed through the run's verifier hook
    assert stats["verifier_judge_s"] > 0 and 0 < stats["verifier_busy_share"] <= 1
    # one CPU verifier worker judges one candidate at a time, inside the timed spans
    assert stats["verifier_busy"]["busy_s"]["cpu#0"] >= 0.99 * stats["verifier_judge_s"]
    paths = write_report(config.db, outcome.bench_id, tmp_path / "report")
    assert Path(paths["plot"]).stat().st_size > 0
