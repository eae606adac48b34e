"""Sample how busy each GPU is during a bench with `nvidia-smi` (absent on CPU: reports so).

`utilization.gpu` is the share of the last sample period in which a kernel was running, so
its mean over the bench is the GPU busy share.
"""
from __future__ import annotations

import shutil
import subprocess
import threading
import time
from collections import defaultdict


class GpuBusySampler:
    """Context manager: `with GpuBusySampler() as s: ...; s.summary()`."""

    def __init__(self, interval_ms: int = 200, command: str = "nvidia-smi", indices: list[str] | None = None):
        self.interval_ms = interval_ms
        self.indices = [str(i) for i in indices] if indices else None  # GPUs the bench uses (None: all)
        self.command = command
        self.samples: dict[str, list[float]] = defaultdict(list)
        self._proc: subprocess.Popen | None = None
        self._thread: threading.Thread | None = None
        self.started_at = 0.0
        self.stopped_at = 0.0
        self.available = shutil.which(command) is not None

    def __enter__(self) -> "GpuBusySampler":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        self.started_at = time.time()
        if not self.available:
            return
        args = [self.command, "--query-gpu=index,utilization.gpu", "--format=csv,noheader,nounits", f"--loop-ms={self.interval_ms}"]
        try:
            self._proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        except OSError:
            self.available = False
            return
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        for line in self._proc.stdout:
            self.add_line(line)

    def add_line(self, line: str) -> None:
        """Parse one `index, utilization` line (ignored when malformed)."""
        parts = [p.strip() for p in line.split(",")]
        if len(parts) == 2 and parts[0].isdigit() and (self.indices is None or parts[0] in self.indices):
            try:
                self.samples[parts[0]].append(float(parts[1]))
            except ValueError:
                pass

    def stop(self) -> None:
        self.stopped_at = time.time()
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def summary(self) -> dict:
        """{"available", "per_gpu": {index: {"busy_share", "samples"}}, "mean_busy_share"}."""
        if not self.available:
            return {"available": False, "note": "nvidia-smi not found: GPU busy share not sampled"}
        per_gpu = {
            idx: {"busy_share": (sum(v) / len(v) / 100.0) if v else None, "samples": len(v)}
            for idx, v in sorted(self.samples.items())
        }
        shares = [g["busy_share"] for g in per_gpu.values() if g["busy_share"] is not None]
        return {
            "available": True,
            "interval_ms": self.interval_ms,
            "per_gpu": per_gpu,
            "mean_busy_share": sum(shares) / len(shares) if shares else None,
        }
