"""Ctrl-C during `kernelwright run`: stop within a moment and leave a run that resumes where it stopped.

SIGINT wakes a watcher thread through `signal.set_wakeup_fd`, so it acts at once even while the main
thread waits for a verification or is busy in C code. The watcher
1. takes the checkpoint database's write lock for good: nothing of the step in flight is saved after
   that, so a resume re-runs the unfinished part of that step;
2. SIGKILLs the process group of every verifier worker (in-flight verifications end with them);
3. calls `on_stop` (the CLI prints the run id and the resume command) and exits with 130.
To the checkpoint this is what SIGKILL does, which resume already survives, minus the stray workers.
"""
from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Self

EXIT_CODE = 130  # 128 + SIGINT, as shells report it


def kill_verifier_workers() -> None:
    """SIGKILL the process group of every worker of the process-wide verifier pools; remove their folders."""
    from kernelwright.verifier import pool as pools

    for pool in list(pools._pools.values()):  # the pools get_pool made; closing them would wait for the jobs
        for worker in pool.workers:
            pid = worker.pid
            if pid is not None:
                try:
                    os.killpg(pid, signal.SIGKILL)  # each worker leads its own session
                except (ProcessLookupError, PermissionError):
                    pass
            shutil.rmtree(worker.base_dir, ignore_errors=True)


def lock_checkpoints(path: Path) -> sqlite3.Connection | None:
    """Take the write lock of the checkpoint database (waits for a write in progress to commit)."""
    if not path.is_file():
        return None
    try:
        conn = sqlite3.connect(str(path), timeout=10, isolation_level=None, check_same_thread=False)
        conn.execute("BEGIN EXCLUSIVE")
        return conn
    except sqlite3.Error:
        return None


class ExitOnInterrupt:
    """Context manager for the main thread: Ctrl-C (SIGINT) ends the process as the module doc says."""

    def __init__(self, checkpoint_path: Path, on_stop: Callable[[], None]) -> None:
        self.checkpoint_path = Path(checkpoint_path)
        self.on_stop = on_stop
        self._previous: Any = None
        self._previous_fd = -1
        self._write_fd = -1

    def __enter__(self) -> Self:
        if threading.current_thread() is not threading.main_thread():
            return self  # signals reach the main thread only (e.g. a CLI test runner in a thread): Ctrl-C as usual
        read_fd, self._write_fd = os.pipe()
        os.set_blocking(self._write_fd, False)
        self._previous = signal.signal(signal.SIGINT, lambda signum, frame: None)  # the watcher acts
        self._previous_fd = signal.set_wakeup_fd(self._write_fd, warn_on_full_buffer=False)
        threading.Thread(target=self._watch, args=(read_fd,), daemon=True, name="kw-interrupt").start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._write_fd < 0:
            return
        signal.set_wakeup_fd(self._previous_fd)
        signal.signal(signal.SIGINT, self._previous)
        os.close(self._write_fd)  # the watcher reads end-of-file and returns

    def _watch(self, read_fd: int) -> None:
        try:
            while True:
                data = os.read(read_fd, 64)
                if not data:
                    return
                if signal.SIGINT in data:
                    break
        finally:
            os.close(read_fd)
        try:
            lock_checkpoints(self.checkpoint_path)  # held until exit
            kill_verifier_workers()
            self.on_stop()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(EXIT_CODE)
