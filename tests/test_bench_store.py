"""SQLite store: re-runs skip finished problems; a killed bench resumes where it stopped."""
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from bench_fixtures import bench_config, write_problem
from kernelwright.bench import run_bench
from kernelwright.bench.store import BenchStore


def test_rerun_skips_finished_problems_and_keeps_their_rows(tmp_path):
    suite = tmp_path / "suite"
    write_problem(suite, "1_a", speedup=1.2)
    write_problem(suite, "2_b", solved=False)
    config = bench_config(tmp_path, suite, bench_id="b1")
    first = run_bench(config)
    assert sorted(first.ran) == ["1_a", "2_b"] and first.skipped == []
    run_ids = {r["problem"]: (r["run_id"], r["finished_at"]) for r in BenchStore(config.db).problems("b1")}
    write_problem(suite, "3_c", speedup=3.0)  # a problem added later is picked up
    second = run_bench(config)
    assert second.ran == ["3_c"] and sorted(second.skipped) == ["1_a", "2_b"]
    rows = {r["problem"]: r for r in BenchStore(config.db).problems("b1")}
    assert {k: (rows[k]["run_id"], rows[k]["finished_at"]) for k in run_ids} == run_ids
    assert second.metrics.problems == 3 and second.metrics.correct == 2
    assert len(BenchStore(config.db).sessions("b1")) == 2


def test_errors_are_retried_only_when_asked(tmp_path):
    suite = tmp_path / "suite"
    write_problem(suite, "1_boom", **{"raise": "exploded"})
    config = bench_config(tmp_path, suite, bench_id="b2")
    run_bench(config)
    row = BenchStore(config.db).problems("b2")[0]
    assert row["status"] == "error" and row["error"] == "RuntimeError: exploded"
    assert run_bench(config).ran == []
    write_problem(suite, "1_boom", speedup=1.1)
    again = run_bench(config.model_copy(update={"retry_errors": True}))
    assert again.ran == ["1_boom"] and again.metrics.correct == 1


CHILD = """
import sys
from kernelwright.bench import BenchConfig, run_bench
run_bench(BenchConfig(suite_dir=sys.argv[1], db=sys.argv[2], artifacts_dir=sys.argv[3], bench_id="kill",
                      run_fn="bench_fakes:synthetic_run", devices="cpu", worker_mode="thread"))
"""


def _status(db, problem):
    if not os.path.exists(db):
        return None
    try:
        with sqlite3.connect(db) as con:
            row = con.execute("SELECT status FROM problems WHERE bench_id='kill' AND problem=?", (problem,)).fetchone()
    except sqlite3.OperationalError:  # the child has not created the tables yet
        return None
    return row[0] if row else None


def test_killed_bench_resumes_with_the_interrupted_problem(tmp_path):
    suite, db = tmp_path / "suite", str(tmp_path / "bench.sqlite")
    write_problem(suite, "1_quick", speedup=1.5)
    write_problem(suite, "2_slow", hang=True, hang_s=600)
    write_problem(suite, "3_quick", speedup=2.5)
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(suite), db, str(tmp_path / "art")],
                             env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent)})
    try:
        deadline = time.time() + 60
        while time.time() < deadline and _status(db, "2_slow") != "running":
            time.sleep(0.1)
        assert _status(db, "2_slow") == "running", "the child bench never reached the slow problem"
        assert _status(db, "1_quick") == "done"
    finally:
        child.kill()
        child.wait()
    assert _status(db, "3_quick") == "pending"
    write_problem(suite, "2_slow", speedup=1.1)  # the problem would now finish
    config = bench_config(tmp_path, suite, bench_id="kill", db=db)
    resumed = run_bench(config)
    assert resumed.skipped == ["1_quick"]
    assert resumed.ran == ["2_slow", "3_quick"]
    assert resumed.metrics.correct == 3
