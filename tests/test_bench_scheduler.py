"""Local scheduling: one run per device at a time over worker processes; crashes and hangs contained."""
import pytest

from bench_fixtures import bench_config, write_problem
from kernelwright.bench import run_bench
from kernelwright.bench.devices import DeviceError, resolve_devices
from kernelwright.bench.store import BenchStore


def test_device_specs():
    assert [d.label for d in resolve_devices("cpu*2", cuda_count=0)] == ["cpu#0", "cpu#1"]
    assert [d.label for d in resolve_devices("auto", cuda_count=0)] == ["cpu#0"]
    gpus = resolve_devices("cuda:0,2", cuda_count=4)
    assert [d.label for d in gpus] == ["cuda:0", "cuda:2"]
    assert gpus[1].run_device == "cuda:0" and gpus[1].env == {"CUDA_VISIBLE_DEVICES": "2"}
    assert len(resolve_devices("auto", cuda_count=8)) == 8
    narrowed = resolve_devices("cuda:1", cuda_count=2)  # with CUDA_VISIBLE_DEVICES unset, index = GPU number
    assert narrowed[0].env == {"CUDA_VISIBLE_DEVICES": "1"}


def test_gpu_numbers_follow_an_already_narrowed_cuda_visible_devices(monkeypatch):
    from kernelwright.bench.targets import make_pool

    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3,1")
    slots = resolve_devices("cuda:0,1", cuda_count=2)
    assert [(d.label, d.env["CUDA_VISIBLE_DEVICES"]) for d in slots] == [("cuda:0", "3"), ("cuda:1", "1")]
    monkeypatch.setattr("kernelwright.bench.devices._cuda_count", lambda: 2)
    _, labels, sampled = make_pool("cuda:1")
    assert labels == ["cuda:1"] and sampled == ["1"]  # the sampler watches the physical GPU
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "GPU-aaaa,GPU-bbbb")
    assert make_pool("cuda:1")[2] is None  # UUIDs: sample every GPU rather than guess
    with pytest.raises(DeviceError, match="GPU 3 not present"):
        resolve_devices("cuda:3", cuda_count=2)
    with pytest.raises(DeviceError, match="cannot read"):
        resolve_devices("tpu", cuda_count=0)


def test_two_cpu_workers_run_problems_side_by_side(tmp_path):
    suite = tmp_path / "suite"
    for i in range(4):
        write_problem(suite, f"{i}_p", speedup=1.0 + i, delay_s=0.5, attempts=2)
    config = bench_config(tmp_path, suite, bench_id="pool", devices="cpu*2", worker_mode="process")
    outcome = run_bench(config)
    assert sorted(outcome.ran) == ["0_p", "1_p", "2_p", "3_p"]
    rows = BenchStore(config.db).problems("pool")
    assert {r["worker"] for r in rows} == {"cpu#0", "cpu#1"}
    by_worker = {}
    for r in rows:
        by_worker.setdefault(r["worker"], []).append((r["started_at"], r["finished_at"]))
    a, b = (sorted(v)[0] for v in by_worker.values())
    assert a[0] < b[1] and b[0] < a[1], "the two workers never ran at the same time"
    for intervals in by_worker.values():  # one run at a time per device
        intervals.sort()
        assert all(x[1] <= y[0] + 1e-3 for x, y in zip(intervals, intervals[1:]))
    assert outcome.metrics.fast_p["eager"]["2"] == pytest.approx(2 / 4)  # 3.0x and 4.0x


def test_crashed_and_hung_runs_are_recorded_and_the_bench_goes_on(tmp_path):
    suite = tmp_path / "suite"
    write_problem(suite, "1_crash", exit=3)
    write_problem(suite, "2_hang", hang=True, hang_s=600)
    write_problem(suite, "3_ok", speedup=1.7)
    config = bench_config(tmp_path, suite, bench_id="bad", worker_mode="process", job_timeout_s=4)
    outcome = run_bench(config)
    rows = {r["problem"]: r for r in BenchStore(config.db).problems("bad")}
    assert rows["1_crash"]["status"] == "error" and "worker process died" in rows["1_crash"]["error"]
    assert rows["2_hang"]["status"] == "error" and rows["2_hang"]["error"].startswith("timeout")
    assert rows["3_ok"]["status"] == "done" and rows["3_ok"]["speedup_eager"] == 1.7
    assert outcome.metrics.errors == 2 and outcome.metrics.correct == 1


def test_gpu_busy_sampler_keeps_the_bench_gpus_only():
    from kernelwright.bench.gpubusy import GpuBusySampler, parse_smi

    assert parse_smi("0, 100\n1, 100\ngarbage\n0, [N/A]\n2, 50\n") == {"0": 100.0, "1": 100.0, "2": 50.0}
    sampler = GpuBusySampler(indices=["0", "2"], reader=lambda: {})
    for reading in ({"0": 100.0, "1": 100.0, "2": 50.0}, {"0": 80.0, "2": 0.0}):
        sampler.add(reading)
    summary = sampler.summary()
    assert summary["per_gpu"] == {"0": {"busy_share": 0.9, "samples": 2}, "2": {"busy_share": 0.25, "samples": 2}}
    assert summary["mean_busy_share"] == pytest.approx(0.575)


def test_runs_sharing_a_device_overlap_and_a_crash_is_pinned_on_its_culprit(tmp_path):
    suite = tmp_path / "suite"
    write_problem(suite, "1_crash", exit=3)
    for name in ("2_ok", "3_ok", "4_ok"):
        write_problem(suite, name, speedup=1.2, delay_s=0.5, attempts=2)
    config = bench_config(tmp_path, suite, bench_id="shared", worker_mode="process", runs_per_device=2)
    outcome = run_bench(config)
    rows = {r["problem"]: r for r in BenchStore(config.db).problems("shared")}
    assert rows["1_crash"]["status"] == "error" and "worker process died" in rows["1_crash"]["error"]
    assert all(rows[k]["status"] == "done" and rows[k]["solved"] for k in ("2_ok", "3_ok", "4_ok"))
    a, b = rows["3_ok"], rows["4_ok"]  # started together after the crash, on the one device
    assert a["worker"] == b["worker"] == "cpu#0"
    assert a["started_at"] < b["finished_at"] and b["started_at"] < a["finished_at"]
    assert outcome.stats["worker_busy_share"] <= 1.0


@pytest.mark.parametrize("mode", ["thread", "process"])
def test_max_wall_starts_no_new_problem_late_and_a_rerun_resumes_the_rest(tmp_path, mode):
    suite = tmp_path / "suite"
    for i in range(3):
        write_problem(suite, f"{i}_p", attempts=1, delay_s=0.8)
    config = bench_config(tmp_path, suite, bench_id="wall", worker_mode=mode, max_wall_s=0.3)
    first = run_bench(config)
    assert first.ran == ["0_p"] and first.not_started == ["1_p", "2_p"]
    statuses = {r["problem"]: r["status"] for r in BenchStore(config.db).problems("wall")}
    assert statuses == {"0_p": "done", "1_p": "pending", "2_p": "pending"}
    assert first.metrics.problems == 3 and first.metrics.correct == 1  # not started counts as not solved
    second = run_bench(config.model_copy(update={"max_wall_s": None}))
    assert second.skipped == ["0_p"] and sorted(second.ran) == ["1_p", "2_p"] and second.metrics.correct == 3
