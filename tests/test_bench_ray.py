"""Ray scheduling on a local Ray with two declared (fake) GPUs: one task per GPU at a time."""
from pathlib import Path

import pytest

from bench_fixtures import bench_config, write_problem
from kernelwright.bench import run_bench
from kernelwright.bench.store import BenchStore

pytest.importorskip("ray")

TESTS = str(Path(__file__).resolve().parent)  # the fakes live here; Ray's workers need it on their path


@pytest.mark.slow
def test_ray_workers_spread_over_fake_gpus_and_survive_a_crash(tmp_path):
    suite = tmp_path / "suite"
    for i in range(4):
        write_problem(suite, f"{i}_p", speedup=1.5, delay_s=0.2, attempts=2, verify_s=0.3)
    write_problem(suite, "5_crash", exit=3)
    config = bench_config(tmp_path, suite, bench_id="ray", ray="local",
                          ray_init={"num_cpus": 2, "num_gpus": 2, "runtime_env": {"env_vars": {"PYTHONPATH": TESTS}}},
                          run_options={"verifier": "bench_fakes:sleep_verifier"})
    outcome = run_bench(config)
    assert sorted(outcome.ran) == ["0_p", "1_p", "2_p", "3_p", "5_crash"]
    rows = BenchStore(config.db).problems("ray")
    crash = rows.pop()
    assert crash["status"] == "error" and "ray worker failed" in crash["error"]
    gpus = {r["worker"].rsplit("/", 1)[-1] for r in rows}
    assert gpus == {"gpu0", "gpu1"}  # ray.get_gpu_ids() gave each task its own GPU
    assert all(r["device"] == "cpu" for r in rows)  # fake GPUs: no CUDA, so the run is told cpu
    assert outcome.metrics.correct == 4
    busy = outcome.stats["verifier_busy"]["busy_s"]  # the actors' verification spans came back per GPU
    assert {k.rsplit("/", 1)[-1] for k in busy} == {"gpu0", "gpu1"}
    assert sum(busy.values()) == pytest.approx(8 * 0.3, abs=0.4)
    assert outcome.stats["verifier_judge_s"] == pytest.approx(8 * 0.3)
