"""Start `langgraph dev` for a test as the README documents it, and always stop it and what it started."""
from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import IO


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (children in their own sessions too, e.g. verifier workers)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/ok", timeout=5) as reply:
            return reply.status == 200
    except OSError:
        return False


def _stop(server: subprocess.Popen) -> None:
    """SIGTERM the server's process group, SIGKILL it if it lingers, then any process it left behind."""
    left = descendants(server.pid)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=30)
    for pid in left:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


@contextlib.contextmanager
def langgraph_dev(project: Path, env: dict[str, str], log: IO[str], ready_s: float = 300) -> Iterator[str]:
    """`langgraph dev --port P --no-browser` in `project` (reloading on, as documented); yields its URL.

    Runs the CLI as `python -m langgraph_cli` with this interpreter, i.e. the `langgraph` command of
    this environment. Fails with the log's tail if the server exits or does not answer in `ready_s`."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "langgraph_cli", "dev", "--port", str(port), "--no-browser"],
        cwd=project, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        start_new_session=True)
    try:
        deadline = time.monotonic() + ready_s
        while not _ready(url):
            if server.poll() is not None or time.monotonic() > deadline:
                log.flush()
                raise AssertionError(f"langgraph dev did not start (exit {server.poll()}): "
                                     f"{Path(log.name).read_text()[-2000:]}")
            time.sleep(0.5)
        yield url
    finally:
        _stop(server)
