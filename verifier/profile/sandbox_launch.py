"""How the profile driver is started: in the verifier's sandbox, with ncu wrapped around it.

`SandboxLaunch(tmp, device)` lays out a private work dir and cache dir under `tmp`, builds the
scrubbed environment the worker gets (`child_environment`: no keys, tokens or API settings;
HOME, TMPDIR and compiler caches private; only the profiled GPU visible) and, where the host
allows it, a private PID namespace (``unshare --pid --mount-proc``) around the whole command, ncu
included, so that ncu still sees and follows the driver. The driver enters the rest of the sandbox
itself (`sandbox.apply`: network namespace, rlimits, audit hook) after CUDA is initialised (ncu's
injection attaches then) and before the candidate's file is loaded.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

from kernelwright.verifier.sandbox.env import child_environment
from kernelwright.verifier.sandbox.launch import UNSHARE, env_flag, physical_gpu, pid_namespace_available


class SandboxLaunch:
    """Dirs, environment and command prefix of one sandboxed profile run."""

    def __init__(self, tmp: Path, device: str, *, isolate_pids: bool | None = None) -> None:
        self.workdir = tmp / "work"
        self.cache_dir = tmp / "cache"
        for path in (self.workdir, self.workdir / "tmp", self.cache_dir):
            path.mkdir(parents=True, exist_ok=True)
        self.cuda = device != "cpu"
        gpu = physical_gpu("cuda" if device == "auto" else device)
        python_path = [os.path.abspath(p or os.getcwd()) for p in sys.path if os.path.exists(p or ".")]
        self.env = child_environment(dict(os.environ), device_index=gpu, workdir=str(self.workdir),
                                     cache_dir=str(self.cache_dir), python_path=python_path)
        isolate = env_flag("KERNELWRIGHT_ISOLATE_PIDS") if isolate_pids is None else isolate_pids
        self.pid_namespace = isolate and pid_namespace_available()

    def driver_flags(self) -> list[str]:
        """Arguments that tell the driver where its sandbox is and which layers to apply."""
        flags = ["--workdir", str(self.workdir), "--cache-dir", str(self.cache_dir)]
        if not env_flag("KERNELWRIGHT_ISOLATE_NET"):
            flags.append("--no-isolate-network")
        if not env_flag("KERNELWRIGHT_GUARD_HOME"):
            flags.append("--no-guard-home")
        if self.pid_namespace:
            flags.append("--pid-namespace")
        return flags

    def wrap(self, cmd: list[str]) -> list[str]:
        """`cmd` (the driver, or ncu launching it) inside the PID namespace where available."""
        if not self.pid_namespace:
            return cmd
        return [*UNSHARE, "/bin/sh", "-c", '"$@"; exit $?', "kw-profile", *cmd]
