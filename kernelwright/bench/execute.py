"""Run one bench job inside a bench worker (local process or Ray actor) and return a plain-JSON payload."""
from __future__ import annotations

import os
import time
import traceback
from typing import Any

from kernelwright.bench.jobs import Job, resolve_run_fn, takes_verifier
from kernelwright.bench.verifyclock import VerifyClock


def execute(job: Job, device: str, worker: str) -> dict[str, Any]:
    """Run one job in this process and return a JSON-able payload (never raises).

    The payload's "verify" holds the run's verification spans (see `verifyclock`)."""
    started = time.time()
    base = {"device": device, "worker": worker, "pid": os.getpid(), "started_at": started}
    clock = VerifyClock()
    try:
        run_fn = resolve_run_fn(job.run_fn)
        options = dict(job.options)
        if takes_verifier(run_fn):
            options["verifier"] = clock.wrap(options.get("verifier"))
        result = run_fn(job.path, device=device, **options)
        data = result.model_dump(mode="json") if hasattr(result, "model_dump") else dict(result)
        return {**base, "ok": True, "result": data, "verify": clock.payload(), "finished_at": time.time()}
    except BaseException as exc:  # noqa: BLE001 - the bench goes on; the error is recorded
        if isinstance(exc, KeyboardInterrupt):
            raise
        line = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}".strip()
        return {**base, "ok": False, "error": line, "trace": traceback.format_exc()[-4000:],
                "verify": clock.payload(), "finished_at": time.time()}
