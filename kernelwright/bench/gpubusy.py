"""Sample how often each GPU runs a kernel during a bench (NVML; nvidia-smi as a fallback).

The figure is NVML's `utilization.gpu`: the share of the driver's last sample period (1/6 s to
1 s by product) in which at least one kernel was executing. Its mean over the bench is the
**kernel-active share**; it says nothing about how much of the GPU a kernel used. It is read
through libnvidia-ml directly (ctypes, no extra package), polled every `interval_ms`; where the
library cannot be loaded, a one-shot `nvidia-smi --query-gpu` per poll is used instead (one-shot
calls, so that no sample is lost in a pipe buffer). Indices are NVML's (nvidia-smi's) numbers.
On a host without either, the summary says it was not sampled.
"""
from __future__ import annotations

import ctypes
import shutil
import subprocess
import threading
import time
from collections import defaultdict
from collections.abc import Callable

Reader = Callable[[], dict[str, float]]  # one poll: {gpu index: utilization percent}


class _Utilization(ctypes.Structure):
    _fields_ = [("gpu", ctypes.c_uint), ("memory", ctypes.c_uint)]


def nvml_reader(library: str = "libnvidia-ml.so.1") -> tuple[Reader, Callable[[], None]] | None:
    """(poll, close) over every GPU NVML sees, or None when NVML is absent or fails to start."""
    try:
        lib = ctypes.CDLL(library)
        if lib.nvmlInit_v2() != 0:
            return None
        count = ctypes.c_uint(0)
        if lib.nvmlDeviceGetCount_v2(ctypes.byref(count)) != 0:
            lib.nvmlShutdown()
            return None
        handles = {}
        for index in range(count.value):
            handle = ctypes.c_void_p()
            if lib.nvmlDeviceGetHandleByIndex_v2(ctypes.c_uint(index), ctypes.byref(handle)) == 0:
                handles[str(index)] = handle
    except (OSError, AttributeError):
        return None

    def poll() -> dict[str, float]:
        out = {}
        for index, handle in handles.items():
            util = _Utilization()
            if lib.nvmlDeviceGetUtilizationRates(handle, ctypes.byref(util)) == 0:
                out[index] = float(util.gpu)
        return out

    return poll, lib.nvmlShutdown


def parse_smi(text: str) -> dict[str, float]:
    """`index, utilization` lines (csv,noheader,nounits) -> {index: percent}; malformed lines skipped."""
    out = {}
    for line in text.splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) == 2 and parts[0].isdigit():
            try:
                out[parts[0]] = float(parts[1])
            except ValueError:
                pass
    return out


def smi_reader(command: str = "nvidia-smi") -> Reader | None:
    """One `nvidia-smi --query-gpu` call per poll, or None when nvidia-smi is not on PATH."""
    if shutil.which(command) is None:
        return None
    args = [command, "--query-gpu=index,utilization.gpu", "--format=csv,noheader,nounits"]

    def poll() -> dict[str, float]:
        try:
            run = subprocess.run(args, capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return {}
        return parse_smi(run.stdout) if run.returncode == 0 else {}

    return poll


class GpuBusySampler:
    """Context manager: `with GpuBusySampler(indices=["0"]) as s: ...; s.summary()`."""

    def __init__(self, interval_ms: int = 200, indices: list[str] | None = None, reader: Reader | None = None,
                 method: str = "auto"):
        self.interval_ms = interval_ms
        self.indices = [str(i) for i in indices] if indices else None  # GPUs the bench uses (None: all)
        self.samples: dict[str, list[float]] = defaultdict(list)
        self.started_at = self.stopped_at = 0.0
        self._reader, self._close, self.method = reader, None, "given" if reader else method
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def available(self) -> bool:
        return self._reader is not None

    def __enter__(self) -> GpuBusySampler:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _open(self) -> None:
        if self._reader is not None or self.method == "none":
            return
        if self.method in ("auto", "nvml"):
            found = nvml_reader()
            if found is not None:
                (self._reader, self._close), self.method = found, "nvml"
                return
        if self.method in ("auto", "nvidia-smi"):
            self._reader = smi_reader()
            self.method = "nvidia-smi" if self._reader else "none"

    def start(self) -> None:
        self.started_at = time.time()
        self._open()
        if self._reader is None:
            return
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while True:
            self.add(self._reader())
            if self._stop.wait(self.interval_ms / 1000.0):
                return

    def add(self, reading: dict[str, float]) -> None:
        """Keep one poll's values of the GPUs the bench uses."""
        for index, value in reading.items():
            if self.indices is None or index in self.indices:
                self.samples[index].append(value)

    def stop(self) -> None:
        self.stopped_at = time.time()
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=15)
            self.add(self._reader())  # one last poll covers the end of the bench
        if self._close is not None:
            self._close()
            self._close = None

    def summary(self) -> dict:
        """{"available", "method", "per_gpu": {index: {"busy_share", "samples"}}, "mean_busy_share"}."""
        if not self.available:
            return {"available": False, "method": "none",
                    "note": "neither NVML nor nvidia-smi found: GPU kernel-active share not sampled"}
        per_gpu = {
            idx: {"busy_share": (sum(v) / len(v) / 100.0) if v else None, "samples": len(v)}
            for idx, v in sorted(self.samples.items())
        }
        shares = [g["busy_share"] for g in per_gpu.values() if g["busy_share"] is not None]
        return {
            "available": True,
            "method": self.method,
            "interval_ms": self.interval_ms,
            "window_s": round(self.stopped_at - self.started_at, 3),
            "per_gpu": per_gpu,
            "mean_busy_share": sum(shares) / len(shares) if shares else None,
        }
