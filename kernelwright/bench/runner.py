"""`run_bench`: discover a suite, run every unfinished problem on the workers, store results."""
from __future__ import annotations

import platform
import re
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from kernelwright.bench import suite as suite_mod
from kernelwright.bench.gpubusy import GpuBusySampler
from kernelwright.bench.jobs import DEFAULT_RUN_FN, Job
from kernelwright.bench.metrics import BenchMetrics, summarize
from kernelwright.bench.record import attempt_rows, result_fields, save_best_kernel
from kernelwright.bench.store import BenchStore
from kernelwright.bench.targets import make_pool
from kernelwright.bench.verifyclock import busy_shares, union_seconds
from kernelwright.result import Result

Event = Callable[[str, dict[str, Any]], None]  # kind (broken|start|done|skip), details


class BenchConfig(BaseModel):
    """Everything one `kernelwright bench` invocation needs."""

    suite_dir: str
    budget_s: float = 120.0
    iterations: int | None = None
    coder: str = "template"
    devices: str = "auto"                 # auto | cpu | cpu*N | cuda | cuda:0,1
    ray: str | None = None                # None: local pool; else auto | local | ADDRESS
    ray_init: dict[str, Any] = Field(default_factory=dict)  # extra ray.init kwargs (tests: num_gpus)
    db: str = "runs/bench.sqlite"
    bench_id: str | None = None
    artifacts_dir: str = "runs/bench"
    worker_mode: str = "process"          # process | thread (local pool)
    runs_per_device: int = 1              # concurrent runs sharing one device's verifier worker
    run_fn: str = DEFAULT_RUN_FN
    run_options: dict[str, Any] = Field(default_factory=dict)  # extra keyword options for run_fn
    retry_errors: bool = False
    job_timeout_s: float | None = None    # default: 3 x budget + 10 min
    max_wall_s: float | None = None       # start no new problem after this many seconds (rest stays pending)
    recursive: bool = False
    policy: str = "strict"                # verifier policy of every run (verifier/rules.py POLICIES)

    def resolved_bench_id(self) -> str:
        """Deterministic by default, so re-running the same command resumes the same bench."""
        if self.bench_id:
            return self.bench_id
        iters = f"-{self.iterations}it" if self.iterations else ""
        policy = f"-{self.policy}" if self.policy != "strict" else ""
        name = Path(self.suite_dir.rstrip("/")).name or "suite"
        return re.sub(r"[^A-Za-z0-9_.-]", "_", f"{name}-{self.coder}-{self.budget_s:g}s{iters}{policy}")


class BenchOutcome(BaseModel):
    bench_id: str
    db: str
    ran: list[str] = Field(default_factory=list)
    skipped: list[str] = Field(default_factory=list)
    not_started: list[str] = Field(default_factory=list)  # left pending by --max-wall
    broken: list[dict[str, str]] = Field(default_factory=list)
    wall_s: float = 0.0
    stats: dict[str, Any] = Field(default_factory=dict)
    metrics: BenchMetrics = Field(default_factory=BenchMetrics)


def environment() -> dict[str, Any]:
    info: dict[str, Any] = {"host": socket.gethostname(), "python": platform.python_version()}
    try:
        import torch

        info["torch"] = torch.__version__
        if torch.cuda.is_available():
            info["gpu"] = torch.cuda.get_device_name(0)
            info["gpus"] = torch.cuda.device_count()
    except Exception:  # noqa: BLE001
        pass
    try:
        import triton

        info["triton"] = triton.__version__
    except Exception:  # noqa: BLE001
        pass
    return info


def run_bench(config: BenchConfig, on_event: Event | None = None) -> BenchOutcome:
    """Run (or resume) a bench; returns what ran now and the metrics over the whole bench."""
    emit = on_event or (lambda kind, info: None)
    bench_id = config.resolved_bench_id()
    found = suite_mod.discover(config.suite_dir, recursive=config.recursive)
    pool, slots, gpu_indices = make_pool(config.devices, config.ray, config.ray_init, config.worker_mode,
                                         config.runs_per_device)
    for item in found.broken:
        emit("broken", {"path": item.path, "message": item.message})
    store = BenchStore(config.db)
    store.open_bench(bench_id, str(Path(config.suite_dir).resolve()), config.model_dump(), environment())
    store.add_broken(bench_id, [(b.path, b.message) for b in found.broken])
    store.add_problems(bench_id, [(p.key, p.path) for p in found.problems])
    store.reset_interrupted(bench_id, retry_errors=config.retry_errors)
    keys = {p.key for p in found.problems}
    todo = [(k, path) for k, path in store.pending(bench_id) if k in keys]
    todo_keys = {k for k, _ in todo}
    outcome = BenchOutcome(bench_id=bench_id, db=config.db,
                           broken=[{"path": b.path, "message": b.message} for b in found.broken])
    outcome.skipped = [p.key for p in found.problems if p.key not in todo_keys]
    for key in outcome.skipped:
        emit("skip", {"problem": key})

    root = Path(config.artifacts_dir) / bench_id
    timeout = config.job_timeout_s or (3 * config.budget_s + 600)
    jobs = [Job(key=k, path=path, run_fn=config.run_fn, options=_run_options(config, bench_id, k, root),
                timeout_s=timeout) for k, path in todo]
    busy: dict[str, list[tuple[float, float]]] = {}  # worker -> run intervals
    verify_spans: dict[str, list[tuple[float, float]]] = {}  # worker -> verification batches in flight
    judge_s = [0.0]
    verified = [0]  # attempts (candidates verified) finished in this session

    window = {"first": None, "last": None}

    def on_start(job: Job, worker: str) -> None:
        window["first"] = window["first"] or time.time()
        store.mark_running(bench_id, job.key, worker, "")
        emit("start", {"problem": job.key, "worker": worker})

    def on_done(job: Job, payload: dict[str, Any]) -> None:
        worker = payload.get("worker", "")
        window["last"] = time.time()
        busy.setdefault(worker, []).append((payload["started_at"], payload["finished_at"]))
        clock = payload.get("verify") or {}
        if clock.get("spans"):
            verify_spans.setdefault(worker, []).extend(tuple(span) for span in clock["spans"])
        judge_s[0] += float(clock.get("judge_s") or 0.0)
        fields = _done_fields(job, payload, root / "kernels")
        store.record(bench_id, job.key, fields["problem"], fields["attempts"])
        verified[0] += len(fields["attempts"])
        outcome.ran.append(job.key)
        shown = ("status", "solved", "speedup_eager", "error", "worker", "elapsed_s")
        emit("done", {"problem": job.key, **{k: fields["problem"].get(k) for k in shown}})

    started = time.time()
    pool.deadline = started + config.max_wall_s if config.max_wall_s else None
    with GpuBusySampler(indices=gpu_indices or None) as sampler:
        if jobs:
            pool.run(jobs, on_start, on_done)
    outcome.wall_s = time.time() - started
    ran = set(outcome.ran)
    outcome.not_started = [job.key for job in jobs if job.key not in ran]
    busy_s = {worker: union_seconds(spans) for worker, spans in busy.items()}
    n_workers = max(len(busy_s), len(slots), 1)
    # the devices the verifier share is averaged over: every slot (an idle one counts as 0 %);
    # through Ray, the actors that ran something (an actor that died is labelled "ray")
    devices = [w for w in busy_s if w != "ray"] if config.ray else sorted(set(slots) | set(busy_s))
    verifier = busy_shares(verify_spans, devices, outcome.wall_s) if jobs else None
    outcome.stats = {
        "jobs": len(jobs),
        "not_started": len(outcome.not_started),
        "workers": sorted(busy_s),
        "active_s": (window["last"] - window["first"]) if window["first"] and window["last"] else None,
        "worker_busy_share": (sum(busy_s.values()) / (outcome.wall_s * n_workers)) if jobs and outcome.wall_s else None,
        "problems_per_minute": len(outcome.ran) / outcome.wall_s * 60 if jobs and outcome.wall_s else None,
        "candidates": verified[0],
        "candidates_per_minute": verified[0] / outcome.wall_s * 60 if jobs and outcome.wall_s else None,
        "verifier_busy_share": verifier["mean"] if verifier else None,
        "verifier_busy": verifier,
        "verifier_judge_s": judge_s[0],
        "gpu": sampler.summary(),
    }
    store.add_session(bench_id, started, started + outcome.wall_s, len(jobs), slots, outcome.stats)
    rows = store.problems(bench_id)
    if all(r["status"] in ("done", "error") for r in rows):
        store.finish_bench(bench_id)
    outcome.metrics = summarize([r for r in rows if r["problem"] in keys])
    store.close()
    return outcome


def _run_options(config: BenchConfig, bench_id: str, key: str, root: Path) -> dict[str, Any]:
    safe = key.replace("/", "__")
    options: dict[str, Any] = {
        "budget_s": config.budget_s,
        "coder": config.coder,
        # fresh id per attempt at the problem: a re-run never mixes with an interrupted run's checkpoint
        "run_id": f"{bench_id}--{safe}--{time.time_ns() // 1_000_000:x}",
        "artifacts_dir": str(root / "runs" / safe),
    }
    if config.iterations is not None:
        options["iterations"] = config.iterations
    options.update(config.run_options)
    if config.policy != "strict":
        options["verify_options"] = {**(options.get("verify_options") or {}), "policy": config.policy}
    return options


def _done_fields(job: Job, payload: dict[str, Any], kernels_dir: Path) -> dict[str, Any]:
    base = {"worker": payload.get("worker", ""), "device": payload.get("device", ""),
            "started_at": payload["started_at"], "finished_at": payload["finished_at"]}
    if not payload.get("ok"):
        return {"problem": {**base, "status": "error", "solved": 0, "error": payload.get("error", "unknown error"),
                            "elapsed_s": payload["finished_at"] - payload["started_at"]}, "attempts": []}
    try:
        result = Result.model_validate(payload["result"])
    except Exception as exc:  # noqa: BLE001 - a run function that returned something else
        return {"problem": {**base, "status": "error", "solved": 0,
                            "error": f"run returned an invalid Result: {str(exc).splitlines()[0]}"}, "attempts": []}
    fields = {**base, **result_fields(result, payload["started_at"]), "status": "done", "error": None}
    fields["best_kernel_path"] = save_best_kernel(result, job.key, kernels_dir)
    return {"problem": fields, "attempts": attempt_rows(result, payload["started_at"])}
