#!/usr/bin/env python3
"""Measure verifier worker start-up and restart times (after a hang and after a crash).

    python scripts/bench_worker.py --device cpu --n 5        # prints one JSON record
    python scripts/bench_worker.py --device cuda:0 --n 5     # includes CUDA context creation

"start" is process start + sandbox + `import torch`; "ready" adds the first device op (CUDA
context on a GPU). "hang" and "crash" are from the failing call's start to the next call's answer.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

from kernelwright.verifier.environment import collect_environment
from kernelwright.verifier.sandbox.worker import Worker, WorkerError


def touch_device(device: str) -> str:
    """Worker side: create the device context with one tiny op."""
    import torch

    return str((torch.ones(1, device=device) + 1).device)


def sleep_forever(_: object = None) -> None:
    while True:
        time.sleep(0.1)


def segfault(_: object = None) -> None:
    import signal

    os.kill(os.getpid(), signal.SIGSEGV)


def _stats(values: list[float]) -> dict[str, float]:
    return {"median_s": round(statistics.median(values), 3), "min_s": round(min(values), 3),
            "max_s": round(max(values), 3), "n": len(values)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--n", type=int, default=5)
    parser.add_argument("--hang-timeout", type=float, default=1.0)
    args = parser.parse_args()
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    local = "cpu" if args.device == "cpu" else "cuda:0"
    starts, readies, hangs, crashes = [], [], [], []
    with Worker(args.device, name="bench") as worker:
        for _ in range(args.n):
            worker._kill()
            began = time.perf_counter()
            worker.start()
            starts.append(time.perf_counter() - began)
            worker.call("bench_worker:touch_device", local, timeout_s=300)
            readies.append(time.perf_counter() - began)
        for target, bucket, timeout in (("sleep_forever", hangs, args.hang_timeout), ("segfault", crashes, 60)):
            for _ in range(args.n):
                began = time.perf_counter()
                try:
                    worker.call(f"bench_worker:{target}", None, timeout_s=timeout)
                except WorkerError:
                    pass
                worker.call("bench_worker:touch_device", local, timeout_s=300)
                bucket.append(time.perf_counter() - began - (timeout if target == "sleep_forever" else 0.0))
        info = worker.info.get("sandbox", {})
    record = {"device": args.device, "environment": collect_environment("cpu").model_dump(),
              "network": info.get("network"), "start": _stats(starts), "ready": _stats(readies),
              "restart_after_hang_excluding_timeout": _stats(hangs), "restart_after_crash": _stats(crashes),
              "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    print(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
