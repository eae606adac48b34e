"""Bench jobs: one problem to run, the run function that runs it, and what a worker reports back."""
from __future__ import annotations

import inspect
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any

DEFAULT_RUN_FN = "kernelwright.run:run_graph"


@dataclass
class Job:
    """One problem to run: where it is, which run function, and its keyword options."""

    key: str
    path: str
    run_fn: str = DEFAULT_RUN_FN
    options: dict[str, Any] = field(default_factory=dict)  # budget_s, iterations, coder, run_id, artifacts_dir
    timeout_s: float | None = None  # hard limit for the whole run (worker is killed past it)
    crashes: int = 0                # worker deaths while this job was in flight


OnStart = Callable[[Job, str], None]            # job, worker label
OnDone = Callable[[Job, dict[str, Any]], None]  # job, payload


def resolve_run_fn(spec: str) -> Callable[..., Any]:
    module, _, attr = spec.partition(":")
    if not module or not attr:
        raise ValueError(f"run function {spec!r} must look like 'package.module:function'")
    return getattr(import_module(module), attr)


def takes_verifier(fn: Callable[..., Any]) -> bool:
    """Whether `fn` accepts a `verifier=` keyword (run_graph does, through its context options)."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == "verifier" or p.kind is inspect.Parameter.VAR_KEYWORD for p in params)


def error_payload(job: Job, worker: str, message: str, started: float) -> dict[str, Any]:
    return {"ok": False, "error": message, "worker": worker, "device": "", "started_at": started,
            "finished_at": time.time()}
