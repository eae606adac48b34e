"""How a sandboxed process is launched: the physical GPU it sees, and a private PID namespace where
the host allows one. Shared by the verifier's workers and the sandboxed profiler (profile/sandbox_launch.py).
"""
from __future__ import annotations

import os
import subprocess


def physical_gpu(device: str) -> str | None:
    """The physical GPU index for "cuda[:N]" through the caller's CUDA_VISIBLE_DEVICES; None for cpu."""
    if device == "cpu":
        return None
    if device != "cuda" and not device.startswith("cuda:"):
        raise ValueError(f"unknown device {device!r}; use cpu, cuda or cuda:N")
    index = device.partition(":")[2] or "0"
    if not index.isdigit():
        raise ValueError(f"bad GPU index in {device!r}; use cuda:N with N a number")
    visible = [v.strip() for v in os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",") if v.strip()]
    if "CUDA_VISIBLE_DEVICES" in os.environ and not visible:
        raise ValueError(f"{device}: CUDA_VISIBLE_DEVICES hides every GPU; unset it or use cpu")
    if visible:
        if int(index) >= len(visible):
            raise ValueError(f"{device}: only {len(visible)} GPU(s) visible through CUDA_VISIBLE_DEVICES")
        return visible[int(index)]
    return index


UNSHARE = ["unshare", "--pid", "--fork", "--mount-proc", "--kill-child"]
_pid_namespace_ok: bool | None = None


def env_flag(name: str) -> bool:
    return os.environ.get(name, "1").strip().lower() not in ("0", "false", "no", "off")


def pid_namespace_available() -> bool:
    """Whether workers can start in a private PID namespace with their own /proc (probed once)."""
    global _pid_namespace_ok
    if _pid_namespace_ok is None:
        try:
            done = subprocess.run([*UNSHARE, "/bin/sh", "-c", "exit 0"], capture_output=True, timeout=20)
            _pid_namespace_ok = done.returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            _pid_namespace_ok = False
    return _pid_namespace_ok
