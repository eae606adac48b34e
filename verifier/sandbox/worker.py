"""A long-lived, sandboxed worker process bound to one device.

    worker = Worker("cuda:1")              # the worker sees that GPU as cuda:0
    worker.call("pkg.mod:fn", payload, timeout_s=30, stage="correctness")

`call` imports `fn` in the worker and returns `fn(payload)`; tensors in the payload and the result
travel as contiguous CPU tensors (move them to `job.local_device` there). A hang past the timeout kills the
worker (WorkerError kind "timeout"); with `compile_s`, the call may also take that long until its
first kernel launch returns (JIT compiles), and each launch that returns (a progress line on the
event channel, `sandbox.progress`) restarts its own `timeout_s`. A worker death is kind "crash" with the exit reason; an
exception inside `fn` is kind "exception" with its traceback. The next call starts a fresh worker.
Replies are read with `wire.safe_loads`, so a hostile worker cannot run code in the caller.
"""
from __future__ import annotations

import json
import os
import pickle
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections import deque
from multiprocessing.connection import Connection
from typing import Any

from kernelwright.verifier.gate import DeviceGate
from kernelwright.verifier.sandbox import enter as sandbox
from kernelwright.verifier.sandbox import wire
from kernelwright.verifier.sandbox.launch import UNSHARE, env_flag, physical_gpu, pid_namespace_available

LOG_KEEP = 16384
SYNC_WAIT_S = 1.0
SYNC_PREFIX = b"\x00sync "
PROGRESS_LINE = b"\x00progress"  # a kernel launch returned in the worker (sandbox.progress)
POLL_SLICE_S = 0.25
MAX_EVENTS = 1000


class WorkerError(Exception):
    """A worker call that did not return normally: kind is "timeout", "crash" or "exception"."""

    def __init__(self, kind: str, reason: str, *, stage: str = "", log_tail: str = "") -> None:
        super().__init__(f"{kind} at {stage or 'worker'}: {reason}")
        self.kind = kind
        self.reason = reason
        self.stage = stage
        self.log_tail = log_tail

    def verdict_parts(self, stage: str) -> tuple[str, str]:
        """(status, one-line message) of the verdict this failure gives at `stage`."""
        if self.kind == "timeout":
            return "timeout", f"{stage} timed out: {self.reason}"
        if self.kind == "crash":
            return "runtime_error", f"worker died during {stage}: {self.reason}"
        return "runtime_error", f"{stage} raised {self.reason}"


def exit_reason(code: int | None) -> str:
    """Words for a process exit status: "exit code -11 (SIGSEGV)"."""
    if code is None:
        return "still running"
    if code < 0:
        try:
            return f"exit code {code} ({signal.Signals(-code).name})"
        except ValueError:
            return f"exit code {code} (signal {-code})"
    return f"exit code {code}"


class _Drain(threading.Thread):
    """Reads a pipe until EOF: keeps the tail of the worker's output, or its event lines."""

    def __init__(self, fd: int, on_data: Any, on_eof: Any = None) -> None:
        super().__init__(daemon=True, name=f"kw-drain-{fd}")
        self.fd, self.on_data, self.on_eof = fd, on_data, on_eof

    def run(self) -> None:
        try:
            while chunk := os.read(self.fd, 65536):
                self.on_data(chunk)
        except OSError:
            pass
        finally:
            os.close(self.fd)
        if self.on_eof is not None:
            self.on_eof()


class Worker:
    """One sandboxed worker process for one device ("cpu", "cuda" or "cuda:N")."""

    def __init__(self, device: str = "cpu", *, name: str | None = None, startup_timeout_s: float = 180.0,
                 preload: tuple[str, ...] = ("torch",), cache_dir: str | None = None,
                 isolate_network: bool | None = None, isolate_pids: bool | None = None) -> None:
        self.device = device
        self.gpu = physical_gpu(device)
        self.name = name or device.replace(":", "")
        self.startup_timeout_s = startup_timeout_s
        self.preload = preload
        # $KERNELWRIGHT_ISOLATE_NET=0, $KERNELWRIGHT_ISOLATE_PIDS=0 or $KERNELWRIGHT_GUARD_HOME=0 (reads of the
        # user's home) switch one layer off on a host where it misbehaves
        self.isolate_network = env_flag("KERNELWRIGHT_ISOLATE_NET") if isolate_network is None else isolate_network
        self.isolate_pids = env_flag("KERNELWRIGHT_ISOLATE_PIDS") if isolate_pids is None else isolate_pids
        self.pid_namespace = False
        self.base_dir = tempfile.mkdtemp(prefix=f"kw-worker-{self.name}-")
        self.cache_dir = cache_dir or os.path.join(self.base_dir, "cache")
        self.restarts = 0
        self.starts = 0
        self.last_restart_s = 0.0
        self.info: dict[str, Any] = {}
        self._proc: subprocess.Popen | None = None
        self._requests: Connection | None = None
        self._replies: Connection | None = None
        self._drains: list[_Drain] = []
        self._log: deque[bytes] = deque()
        self._log_size = 0
        self._events: list[str] = []
        self._event_buffer = b""
        self._call_id = 0
        self._synced = 0
        self._progress_at = 0.0  # monotonic time of the worker's last progress line
        self._silent_reported = False
        self._lock = threading.RLock()
        self.gate = DeviceGate()  # the pool hands the workers of one GPU the same gate
        self._finalizer = weakref.finalize(self, _cleanup, self.base_dir)

    # -- life cycle ---------------------------------------------------------------------------
    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def start(self) -> None:
        """Start the worker process (if not running) and wait until its sandbox is up."""
        with self._lock:
            if self.alive:
                return
            self._reap()
            began = time.perf_counter()
            self._spawn()
            try:
                ready = self._receive(self.startup_timeout_s, stage="start", call_id=0)
            except WorkerError:
                self._kill()
                raise
            self.info = ready if isinstance(ready, dict) else {}
            elapsed = time.perf_counter() - began
            if self.starts:
                self.restarts += 1
                self.last_restart_s = elapsed
            self.starts += 1

    def restart(self) -> None:
        """Kill the worker and start a fresh one (after a sticky CUDA error or tampering)."""
        with self._lock:
            self._kill()
            self.start()

    def stop(self) -> None:
        """Kill the worker process now (its dirs stay); the next call starts a fresh one."""
        with self._lock:
            self._kill()

    def close(self) -> None:
        """Stop the worker and remove its directories."""
        with self._lock:
            if self.alive and self._requests is not None:
                try:
                    self._requests.send_bytes(pickle.dumps(("exit",)))
                    self._proc.wait(timeout=3)  # type: ignore[union-attr]
                except (OSError, subprocess.TimeoutExpired):
                    pass
            self._kill()
            self._finalizer()

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- calls --------------------------------------------------------------------------------
    def call(self, fn: str, payload: Any, *, timeout_s: float, stage: str = "", compile_s: float = 0.0) -> Any:
        """Run `fn(payload)` in the worker ("package.module:function") and return its result.

        Deadline: `timeout_s`; with `compile_s`, `compile_s + timeout_s` at most, cut to `timeout_s`
        after the last kernel launch that returned (compiles happen inside the first launches)."""
        with self._lock:
            self.start()
            self._call_id += 1
            started = time.monotonic()
            try:
                self._requests.send_bytes(wire.dumps(("call", self._call_id, fn, payload)))  # type: ignore[union-attr]
            except OSError:
                self._dead(stage)
            return self._receive(timeout_s, stage=stage, call_id=self._call_id, compile_s=compile_s, started=started)

    @property
    def log_tail(self) -> str:
        """The last few KB the worker printed (stdout and stderr together)."""
        return b"".join(self._log).decode(errors="replace")

    def take_events(self) -> list[str]:
        """Sandbox events the worker reported since the last take (the copy it cannot erase).

        The worker ends each call with a sync line on its event channel; a missing one means the
        candidate closed or blocked the channel, which is reported as a "channel:" event.
        """
        with self._lock:
            if self.alive and self._call_id and self._synced < self._call_id:
                deadline = time.monotonic() + SYNC_WAIT_S
                while self._synced < self._call_id and time.monotonic() < deadline:
                    time.sleep(0.002)
                if self._synced < self._call_id and not self._silent_reported:
                    self._silent_reported = True
                    self._events.append("channel: the worker's sandbox event channel went silent")
            events, self._events = self._events, []
        return events

    # -- internals ----------------------------------------------------------------------------
    def _spawn(self) -> None:
        workdir = os.path.join(self.base_dir, f"work-{self.starts}")
        for path in (workdir, self.cache_dir):
            os.makedirs(path, exist_ok=True)
        python_path = [os.path.abspath(p or os.getcwd()) for p in sys.path if os.path.exists(p or ".")]
        env = sandbox.child_environment(dict(os.environ), device_index=self.gpu, workdir=workdir,
                                        cache_dir=self.cache_dir, python_path=python_path)
        req_r, req_w = os.pipe()
        rep_r, rep_w = os.pipe()
        ev_r, ev_w = os.pipe()
        self.pid_namespace = self.isolate_pids and pid_namespace_available()
        self._synced, self._call_id, self._silent_reported = 0, 0, False
        config = {"fd_requests": req_r, "fd_replies": rep_w, "fd_events": ev_w, "workdir": workdir,
                  "cache_dir": self.cache_dir, "cuda": self.gpu is not None, "preload": list(self.preload),
                  "isolate_network": self.isolate_network, "pid_namespace": self.pid_namespace,
                  "guard_home": env_flag("KERNELWRIGHT_GUARD_HOME")}
        argv = [sys.executable, "-m", "kernelwright.verifier.sandbox.child", json.dumps(config)]
        if self.pid_namespace:  # a shell as PID 1 there, so the worker's signals behave as usual
            argv = [*UNSHARE, "/bin/sh", "-c", '"$@"; exit $?', "kw-worker", *argv]
        try:
            self._proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                pass_fds=(req_r, rep_w, ev_w), env=env, cwd=workdir, start_new_session=True,
            )
        finally:
            for fd in (req_r, rep_w, ev_w):
                os.close(fd)
        self._requests = Connection(req_w, readable=False)
        self._replies = Connection(rep_r, writable=False)
        out_fd = os.dup(self._proc.stdout.fileno())  # type: ignore[union-attr]
        self._proc.stdout.close()  # type: ignore[union-attr]
        proc = self._proc
        self._drains = [_Drain(out_fd, self._on_output),
                        _Drain(ev_r, self._on_events, lambda: self._on_event_eof(proc))]
        for drain in self._drains:
            drain.start()

    def _receive(self, timeout_s: float, *, stage: str, call_id: int, compile_s: float = 0.0,
                 started: float | None = None) -> Any:
        assert self._replies is not None
        if not self._wait_reply(timeout_s, compile_s, time.monotonic() if started is None else started):
            self._kill()
            after = self._progress_at >= (started or 0.0) and compile_s
            reason = (f"no answer within {timeout_s:g} s of its last kernel launch" if after else
                      f"no answer within {timeout_s + compile_s:g} s"
                      + (" (compile allowance included)" if compile_s else ""))
            raise WorkerError("timeout", f"{reason}; worker killed", stage=stage, log_tail=self.log_tail)
        try:
            data = self._replies.recv_bytes()
        except (EOFError, OSError):
            self._dead(stage)
        try:
            reply = wire.safe_loads(data)
            kind, reply_id = reply[0], reply[1]
        except Exception as exc:  # noqa: BLE001 - whatever a hostile worker sends
            self._kill()
            raise WorkerError("crash", f"unreadable reply from the worker ({type(exc).__name__}: {exc})"[:500],
                              stage=stage, log_tail=self.log_tail) from None
        if reply_id != call_id or kind not in ("ok", "ready", "exc"):
            self._kill()
            raise WorkerError("crash", f"out-of-order reply from the worker ({kind!r}, id {reply_id!r})",
                              stage=stage, log_tail=self.log_tail)
        if kind == "exc":
            _, _, exc_type, message, trace = reply
            raise WorkerError("exception", f"{exc_type}: {message}", stage=stage, log_tail=str(trace))
        return reply[2]

    def _wait_reply(self, timeout_s: float, compile_s: float, started: float) -> bool:
        """Whether a reply came before the call's deadline (see `call`)."""
        if not compile_s:
            return self._replies.poll(max(0.0, started + timeout_s - time.monotonic()))  # type: ignore[union-attr]
        hard = started + compile_s + timeout_s
        while True:
            deadline = min(hard, self._progress_at + timeout_s) if self._progress_at >= started else hard
            left = deadline - time.monotonic()
            if left <= 0:
                return bool(self._replies.poll(0))  # type: ignore[union-attr]
            if self._replies.poll(min(left, POLL_SLICE_S)):  # type: ignore[union-attr]
                return True

    def _dead(self, stage: str) -> None:
        proc = self._proc
        try:
            code = proc.wait(timeout=5) if proc else None
        except subprocess.TimeoutExpired:
            code = None
        if code is not None and self.pid_namespace and 128 < code < 128 + 65:
            code = 128 - code  # the namespace's shell reports a signal death as 128 + N
        reason = exit_reason(code) if code is not None else "the worker closed its channel"
        self._kill()
        raise WorkerError("crash", reason, stage=stage, log_tail=self.log_tail)

    def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            proc.wait()
        for conn in (self._requests, self._replies):
            if conn is not None:
                conn.close()
        self._requests = self._replies = None
        for drain in self._drains:
            drain.join(timeout=2)
        self._drains = []

    def _reap(self) -> None:
        if self._proc is not None:
            self._kill()

    def _on_output(self, chunk: bytes) -> None:
        self._log.append(chunk)
        self._log_size += len(chunk)
        while self._log_size > LOG_KEEP and len(self._log) > 1:
            self._log_size -= len(self._log.popleft())
        if self._log_size > LOG_KEEP:
            self._log[0] = self._log[0][-LOG_KEEP:]
            self._log_size = len(self._log[0])

    def _on_events(self, chunk: bytes) -> None:
        *lines, self._event_buffer = (self._event_buffer + chunk).split(b"\n")
        for line in lines:
            if line.startswith(SYNC_PREFIX):
                self._synced = max(self._synced, int(line[len(SYNC_PREFIX):] or 0))
            elif line == PROGRESS_LINE and self._synced >= self._call_id - 1:  # not a late line of the last call
                self._progress_at = time.monotonic()
            elif len(self._events) < MAX_EVENTS:
                self._events.append(line.decode(errors="replace"))

    def _on_event_eof(self, proc: subprocess.Popen) -> None:
        try:
            proc.wait(timeout=2)
        except subprocess.TimeoutExpired:  # alive but its event channel is gone: tampering
            self._events.append("channel: the worker closed its sandbox event channel")

    def __repr__(self) -> str:
        return f"Worker({self.device!r}, pid={self.pid}, restarts={self.restarts})"


def _cleanup(base_dir: str) -> None:
    shutil.rmtree(base_dir, ignore_errors=True)
