"""`kernelwright bench` records each problem's category (the problem analysis's) and reports per category."""
import sqlite3

from kernelwright.bench.record import result_fields
from kernelwright.bench.report import category_table
from kernelwright.bench.store import BenchStore
from kernelwright.result import Result


def test_the_category_comes_from_the_run_analysis():
    fields = result_fields(Result(run_id="r", problem="p", analysis={"category": "norm"}), started_at=0.0)
    assert fields["category"] == "norm"
    assert result_fields(Result(run_id="r", problem="p"), started_at=0.0)["category"] is None  # not captured
    fused = Result(run_id="r", problem="p", analysis={"category": "fused", "op_classes": ["conv", "elementwise"]})
    assert result_fields(fused, started_at=0.0)["category"] == "fused conv"  # level 2: named by its leading op


def test_a_store_written_before_the_category_column_gains_it(tmp_path):
    db = tmp_path / "old.sqlite"
    with sqlite3.connect(db) as con:  # the problems table as it was before the column
        con.execute("CREATE TABLE problems (bench_id TEXT, problem TEXT, path TEXT, status TEXT DEFAULT 'pending', "
                    "solved INTEGER DEFAULT 0, PRIMARY KEY (bench_id, problem))")
        con.execute("INSERT INTO problems (bench_id, problem, path) VALUES ('b', '1_p', '/x/1_p.py')")
    store = BenchStore(db)
    store.record("b", "1_p", {"status": "done", "solved": 1, "category": "matmul"})
    assert store.problems("b")[0]["category"] == "matmul"
    store.close()


def test_report_groups_problems_by_category():
    rows = [{"problem": "1_mm", "category": "matmul", "solved": 1, "status": "done", "speedup_eager": 2.0},
            {"problem": "2_mm", "category": "matmul", "solved": 0, "status": "done"},
            {"problem": "3_ln", "category": "norm", "solved": 1, "status": "done", "speedup_eager": 0.5},
            {"problem": "4_x", "category": None, "solved": 0, "status": "error"}]
    table = {row[0]: row[1:] for row in category_table(rows).rows}
    assert table["matmul"][:2] == [2, "1 (50.0%)"]
    assert table["norm"][:2] == [1, "1 (100.0%)"]
    assert table["not captured"][0] == 1
