"""Issue 7 on the CPU: the scaling sweep script over several worker processes and over Ray with
declared fake GPUs (stand-in run function), and the table it prints."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench_fixtures import write_problem
from kernelwright.bench.scaling_table import rows, table

ROOT = Path(__file__).parents[1]
SCRIPT = ROOT / "benchmarks" / "bench_scaling_gpu.sh"
BIN = str(Path(sys.executable).parent)


def sweep(tmp_path: Path, mode: str, counts: str) -> subprocess.CompletedProcess:
    if shutil.which("kernelwright", path=BIN + os.pathsep + os.environ.get("PATH", "")) is None:
        pytest.skip("the kernelwright console script is not installed")
    suite = tmp_path / "suite"
    for i in range(4):
        write_problem(suite, f"{i}_p", attempts=2, delay_s=0.05, speedup=1.3)
    env = {**os.environ, "PATH": BIN + os.pathsep + os.environ.get("PATH", ""), "PYTHON": sys.executable,
           "CPU_FAKE": "1", "GPUS": "2", "MODE": mode, "COUNTS": counts, "SUITE": str(suite),
           "OUT": str(tmp_path / "out")}
    return subprocess.run(["bash", str(SCRIPT)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_local_sweep_over_one_and_two_worker_processes(tmp_path):
    run = sweep(tmp_path, "local", "1 2 4")
    assert run.returncode == 0, run.stderr[-2000:]
    found = rows(tmp_path / "out" / "scaling", "local")
    assert [r["devices"] for r in found] == [1, 2]  # 4 > GPUS=2 is skipped
    assert all(r["ran"] == 4 for r in found)
    assert found[0]["speedup"] == 1.0 and found[1]["speedup"] > 0
    # the speedup figure itself depends on the machine's load: benchmarks report it, tests do not
    data = json.loads((tmp_path / "out" / "scaling" / "local-2.json").read_text())
    assert sorted(data["stats"]["workers"]) == ["cpu#0", "cpu#1"]
    assert "| local | 2 |" in run.stdout


def test_two_worker_processes_run_jobs_at_the_same_time(tmp_path):
    """Each run waits at a rendezvous until two runs are in flight: a serial pool would fail them."""
    from bench_fixtures import FAKE_RUN
    from kernelwright.bench.devices import resolve_devices
    from kernelwright.bench.jobs import Job
    from kernelwright.bench.localpool import LocalPool

    meet = tmp_path / "meet"
    paths = [write_problem(tmp_path / "suite", f"{i}_p", attempts=1, rendezvous=str(meet), parties=2) for i in range(2)]
    done = {}
    LocalPool(resolve_devices("cpu*2"), mode="process").run(
        [Job(key=p.stem, path=str(p), run_fn=FAKE_RUN, options={}) for p in paths],
        lambda job, worker: None, lambda job, payload: done.__setitem__(job.key, payload))
    assert all(p["ok"] for p in done.values()), [p.get("error") for p in done.values()]
    assert {p["worker"] for p in done.values()} == {"cpu#0", "cpu#1"}
    assert len({p["pid"] for p in done.values()}) == 2
    first, second = sorted(done.values(), key=lambda p: p["started_at"])
    assert second["started_at"] < first["finished_at"]  # the recorded spans overlap


@pytest.mark.slow
def test_ray_sweep_with_two_declared_fake_gpus(tmp_path):
    pytest.importorskip("ray")
    run = sweep(tmp_path, "ray", "2")
    assert run.returncode == 0, run.stderr[-2000:]
    (found,) = rows(tmp_path / "out" / "scaling", "ray")
    assert found["devices"] == 2 and found["ran"] == 4
    data = json.loads((tmp_path / "out" / "scaling" / "ray-2.json").read_text())
    assert {w.rsplit("/", 1)[-1] for w in data["stats"]["workers"]} == {"gpu0", "gpu1"}


def test_table_divides_by_the_one_device_run(tmp_path):
    for n, rate, wall in ((1, 10.0, 60.0), (2, 19.0, 31.0), (4, 30.0, 20.0)):
        stats = {"candidates_per_minute": rate, "verifier_busy_share": 0.85, "gpu": {"mean_busy_share": 0.5}}
        (tmp_path / f"local-{n}.json").write_text(json.dumps({"wall_s": wall, "ran": ["a"] * 7, "stats": stats}))
    (tmp_path / "local-8.json").write_text("")  # a run that wrote nothing is left out
    found = rows(tmp_path, "local")
    assert [(r["devices"], r["speedup"], r["efficiency"]) for r in found] == [(1, 1.0, 1.0), (2, 1.9, 0.95),
                                                                              (4, 3.0, 0.75)]
    text = table(tmp_path, "local")
    assert "| local | 4 | 20.0 | 7 | 30.0 | 3.00 | 0.75 | 85% | 50% |" in text


def test_gpu_summary_puts_both_busy_figures_and_ncu_overhead_side_by_side(tmp_path):
    from kernelwright.bench.gpu_summary import summary

    stats = {"candidates": 16, "candidates_per_minute": 7.5, "verifier_busy_share": 0.83, "verifier_judge_s": 101.0,
             "verifier_busy": {"per_device": {"cuda:0": 0.83}, "busy_s": {"cuda:0": 106.2}}, "worker_busy_share": 0.97,
             "gpu": {"available": True, "method": "nvml", "interval_ms": 200,
                     "per_gpu": {"0": {"busy_share": 0.41, "samples": 640}},
                     "mean_busy_share": 0.41}}
    metrics = {"problems": 8, "correct": 7, "correct_rate": 0.875,
               "fast_p": {"eager": {"1": 0.25}, "compile": {"1": 0.125}},
               "geomean_speedup": {"eager": 0.93}}
    (tmp_path / "bench.json").write_text(json.dumps({"bench_id": "gpu-suite", "ran": ["a"] * 7, "skipped": [],
                                                     "not_started": ["h"],
                                                     "broken": [], "wall_s": 128.0, "stats": stats,
                                                     "metrics": metrics}))
    (tmp_path / "profile_overhead.json").write_text(json.dumps({"ncu": "/usr/local/cuda/bin/ncu", "profiled": 2,
                                                                "with_ncu": 1,
        "not_profiled": ["x"], "overhead_s_median": 9.5, "overhead_s_mean": 9.5,
        "rows": [{"problem": "softmax", "source": "ncu", "overhead_s": 9.5, "error": None, "diagnosis": "memory-bound"},
                 {"problem": "gelu", "source": "metadata", "overhead_s": None,
                  "error": "ncu failed (exit 1): ERR_NVGPUCTRPERM", "diagnosis": ""}]}))
    text = summary(tmp_path)
    assert "not started (time limit) 1" in text
    assert "verifier busy share (verification in flight on the device / wall): 83.0%" in text
    assert "GPU kernel-active share (nvml utilization.gpu, every 200 ms): 41.0%" in text
    assert "1/2 kernels profiled with ncu; overhead per candidate median 9.5 s" in text
    assert "gelu: metadata, overhead - s; ncu failed (exit 1): ERR_NVGPUCTRPERM" in text
    assert "bench.json missing" in summary(tmp_path / "empty")
