"""Scaling curve, report files (markdown, HTML, PNG, kernels) and the two-bench comparison."""
import json

import pytest

from bench_fixtures import bench_config, write_problem
from kernelwright.bench import run_bench
from kernelwright.bench.compare import compare
from kernelwright.bench.report import write_report
from kernelwright.bench.scaling import curves, first_times, solve_curve

ATTEMPTS = [
    {"problem": "a", "status": "incorrect", "finished_at": 3.0},
    {"problem": "a", "status": "correct", "finished_at": 10.0, "speedup_eager": 0.9},
    {"problem": "a", "status": "correct", "finished_at": 25.0, "speedup_eager": 1.4},
    {"problem": "b", "status": "correct", "finished_at": 40.0, "speedup_eager": 2.0},
    {"problem": "c", "status": "compile_error", "finished_at": 5.0},
]


def test_solve_curve_from_attempt_timestamps():
    solved = first_times(ATTEMPTS)
    assert solved == {"a": 10.0, "b": 40.0}
    assert first_times(ATTEMPTS, min_speedup=1.0) == {"a": 25.0, "b": 40.0}
    assert solve_curve(solved, 4, [0.0, 9.9, 10.0, 39.0, 40.0, 100.0]) == [
        (0.0, 0.0), (9.9, 0.0), (10.0, 0.25), (39.0, 0.25), (40.0, 0.5), (100.0, 0.5)]
    sets = curves([{"problem": p} for p in "abcd"], ATTEMPTS, max_budget=60.0)
    assert sets["solved"][-1] == (60.0, 0.5)
    assert sets["fast_1 (vs eager)"][-1] == (60.0, 0.5)


def _two_benches(tmp_path):
    suite = tmp_path / "suite"
    write_problem(suite, "1_a", speedup=1.2, delay_s=0.01, attempts=3)
    write_problem(suite, "2_b", solved=False)
    (suite / "3_broken.py").write_text("class Model(:\n")
    config = bench_config(tmp_path, suite, bench_id="A")
    run_bench(config)
    write_problem(suite, "2_b", speedup=2.5)
    run_bench(config.model_copy(update={"bench_id": "B"}))
    return config


def test_report_writes_markdown_html_plot_metrics_and_kernels(tmp_path):
    config = _two_benches(tmp_path)
    paths = write_report(config.db, "A", tmp_path / "report")
    md = open(paths["markdown"]).read()
    assert "| 1_a | correct | yes | 1.20 |" in md
    assert "| 2_b | incorrect | no |" in md
    assert "3_broken.py" in md and "syntax error" in md
    assert "| eager | 50.0% | 50.0% | 0.0% | 0.0% |" in md  # fast_0, fast_1, fast_1.5, fast_2
    assert "Produced by `kernelwright bench" in md
    assert open(paths["plot"], "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    assert "<table>" in open(paths["html"]).read()
    assert (tmp_path / "report" / "kernels" / "1_a.py").is_file()
    assert not (tmp_path / "report" / "kernels" / "2_b.py").exists()
    data = json.load(open(paths["metrics"]))
    assert data["metrics"]["correct"] == 1 and data["metrics"]["problems"] == 2
    with pytest.raises(KeyError, match="no bench 'Z'"):
        write_report(config.db, "Z", tmp_path / "r2")


def test_compare_shows_newly_solved_problems_and_totals(tmp_path):
    config = _two_benches(tmp_path)
    per, totals, data = compare(config.db, "A", "B")
    rows = {r[0]: r for r in per.rows}
    assert rows["2_b"][1:3] == ["incorrect", "correct"] and rows["2_b"][-1] == "newly solved"
    assert rows["1_a"][-1] == "same" and rows["1_a"][5] == pytest.approx(1.0)
    correct = next(r for r in totals.rows if r[0] == "correct")
    assert correct[1:] == ["1 (50.0%)", "2 (100.0%)"]
    assert data["totals"]["b"]["fast_p"]["eager"]["2"] == pytest.approx(0.5)


def test_report_shows_each_problem_run_time_as_the_progress_line_prints_it(tmp_path):
    from kernelwright.bench.tables import fmt

    suite = tmp_path / "suite"
    write_problem(suite, "1_a", speedup=1.2, delay_s=0.05, attempts=2)
    events = []
    config = bench_config(tmp_path, suite, bench_id="A")
    run_bench(config, on_event=lambda kind, info: events.append((kind, info)))
    printed = [info["elapsed_s"] for kind, info in events if kind == "done"]
    md = open(write_report(config.db, "A", tmp_path / "report")["markdown"]).read()
    assert "| run s |" in md and len(printed) == 1 and printed[0] > 0
    row = next(line for line in md.splitlines() if line.startswith("| 1_a |"))
    assert f"| {fmt(printed[0], 1)} | 2 |" in row  # run s, then attempts


@pytest.mark.parametrize("gpu,label", [
    ({"available": False, "method": "none"},
     "GPU kernel-active share (utilization.gpu; neither NVML nor nvidia-smi found)"),
    ({"available": True, "method": "nvml", "mean_busy_share": 0.5}, "GPU kernel-active share (nvml utilization.gpu)"),
])
def test_gpu_busy_row_says_how_it_was_sampled(gpu, label):
    from kernelwright.bench.metrics import summarize
    from kernelwright.bench.report import summary_table

    rows = summary_table(summarize([]), {"gpu": gpu, "wall_s": 1.0}).rows
    assert [label, "50.0%" if gpu["available"] else "not sampled"] in rows
    assert not any("none utilization" in str(row[0]) for row in rows)
