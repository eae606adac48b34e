"""Ray scheduling: one actor per GPU of the cluster, each running one problem at a time.

Works with a local Ray (`local`; tests declare fake GPUs with ray.init(num_gpus=2)) or a
cluster (`auto`, `ray://host:port`, `host:port`); every node needs kernelwright installed.
An actor that dies or overruns its job's time limit is killed and replaced.
"""
from __future__ import annotations

import os
import socket
import time
from typing import Any

from kernelwright.bench.execute import execute
from kernelwright.bench.jobs import Job, OnDone, OnStart, error_payload


class RayWorker:
    """Ray actor holding one GPU (num_gpus=1) for its lifetime; that GPU's verifier workers live in it.

    Ray sets CUDA_VISIBLE_DEVICES for the actor, so the run sees its GPU as cuda:0; the label
    names the physical GPU from `ray.get_gpu_ids()`.
    """

    def __init__(self) -> None:
        import ray

        gpu_ids = [str(g) for g in ray.get_gpu_ids()]
        try:
            import torch

            has_cuda = torch.cuda.is_available()
        except Exception:  # noqa: BLE001
            has_cuda = False
        self.device = "cuda:0" if gpu_ids and has_cuda else "cpu"
        host = socket.gethostname()
        self.label = f"{host}/gpu{gpu_ids[0]}" if gpu_ids else f"{host}/cpu{os.getpid()}"

    def run(self, job: Job) -> dict[str, Any]:
        return execute(job, self.device, self.label)


class RayPool:
    """Ray actors over a cluster (`address`: auto, local, ray://host:port or host:port).

    One actor per GPU of the cluster (num_gpus=1 each; CPU slots when the cluster has no GPU),
    each running one problem at a time; a crashed or timed-out actor is replaced.
    """

    def __init__(self, address: str = "auto", init_kwargs: dict[str, Any] | None = None):
        self.address = address
        self.init_kwargs = dict(init_kwargs or {})
        self.deadline: float | None = None  # unix time after which no new run starts (None: no limit)

    def run(self, jobs: list[Job], on_start: OnStart, on_done: OnDone) -> None:
        import ray

        started_here = not ray.is_initialized()
        if started_here:
            address = None if self.address == "local" else self.address
            ray.init(address=address, include_dashboard=False, log_to_driver=False, **self.init_kwargs)
        try:
            self._run(ray, jobs, on_start, on_done)
        finally:
            if started_here:
                ray.shutdown()

    def _run(self, ray: Any, jobs: list[Job], on_start: OnStart, on_done: OnDone) -> None:
        resources = ray.cluster_resources()
        gpus = int(resources.get("GPU", 0))
        options = {"num_gpus": 1} if gpus else {"num_cpus": 1}
        slots = gpus or max(int(resources.get("CPU", 1)), 1)
        actor_cls = ray.remote(RayWorker).options(**options, max_restarts=0)
        idle = [actor_cls.remote() for _ in range(min(slots, len(jobs)))]
        waiting = list(jobs)
        in_flight: dict[Any, tuple[Job, Any, float]] = {}
        while waiting or in_flight:
            if self.deadline is not None and time.time() >= self.deadline:
                waiting.clear()  # not started before the deadline: stays pending for a re-run
                if not in_flight:
                    break
            while waiting and idle:
                job, actor = waiting.pop(0), idle.pop()
                in_flight[actor.run.remote(job)] = (job, actor, time.time())
                on_start(job, "ray")
            done, _ = ray.wait(list(in_flight), num_returns=1, timeout=2.0)
            for ref in done:
                job, actor, started = in_flight.pop(ref)
                try:
                    payload = ray.get(ref)
                    idle.append(actor)
                except Exception as exc:  # noqa: BLE001 - the actor died: replace it
                    reason = f"ray worker failed: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
                    payload = error_payload(job, "ray", reason, started)
                    ray.kill(actor)
                    idle.append(actor_cls.remote())
                on_done(job, payload)
            for ref, (job, actor, started) in list(in_flight.items()):
                if job.timeout_s and time.time() - started > job.timeout_s:
                    in_flight.pop(ref)
                    ray.kill(actor)
                    idle.append(actor_cls.remote())
                    on_done(job, error_payload(job, "ray",
                                               f"timeout: run exceeded {job.timeout_s:.0f} s; worker killed", started))
