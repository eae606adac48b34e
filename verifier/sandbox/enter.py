"""The sandbox a worker puts itself in before any candidate code runs.

Layers, strongest first:
- a scrubbed environment, built by the parent (`child_environment`): no keys, tokens, secrets,
  cloud / HF / OpenAI / NVIDIA API variables; HOME and TMPDIR point into a private work dir,
  compiler caches (Triton, torch extensions, CuPy, Inductor) into a per-worker cache dir;
- a new network namespace (``unshare(CLONE_NEWNET)``): only a downed loopback is left;
- where allowed, a private PID namespace with its own /proc (the Worker starts it through
  ``unshare --pid --mount-proc``): the caller's processes and their environ are out of sight;
- resource limits: no core files, bounded file size and open files, address space on CPU only;
- an audit hook that blocks and records: network connects/binds off loopback, processes
  (subprocess, os.system, exec, fork, posix_spawn, dangerous libc symbols through ctypes),
  signals to other processes, writes and destructive file operations outside the work and cache
  dirs, and reads of other processes' /proc entries. Python threads are recorded, not blocked.

Compilers legitimately start processes: the harness wraps compile steps in `allow_compilers()`;
outside it, a compiler program started from inside Triton / torch / CuPy code (Triton compiling a
new specialisation at a later call) is allowed too. Programs must match `COMPILER_PROGRAMS`.
Events are "<kind>: <detail>" with kind in network | process | file | signal | proc | thread |
channel; `events()` / `clear_events()` read them in the worker, and each event is also written
at once to the parent (`Worker.take_events()`), where the candidate cannot erase it.
The audit hook is defence in depth inside a process that runs hostile code (ctypes can reach
around it); the OS layers above are the ones that hold.
"""
from __future__ import annotations

import contextlib
import os
import re
import shutil
import sys
import threading
from collections.abc import Iterator
from typing import Any

from kernelwright.verifier.sandbox import os_layers as sandbox_os
from kernelwright.verifier.sandbox.env import CACHE_SUBDIRS, child_environment  # noqa: F401 - re-exported

COMPILER_PROGRAMS = re.compile(
    r"^((.*-)?(gcc|g\+\+|c\+\+|cc|clang|clang\+\+|ld|ld\.gold|ld\.lld|as)(-\d+(\.\d+)*)?|ninja|nvcc|"
    r"(ptxas|cicc|fatbinary|nvlink|nvdisasm|cuobjdump)(-[a-z0-9]+)?|ldconfig|ldconfig\.real|which|whereis|nvidia-smi|uname)$"
)
_LIBC_DENY = {
    "system", "popen", "fork", "vfork", "clone", "clone3", "execve", "execv", "execvp", "execvpe",
    "execl", "execlp", "execle", "fexecve", "posix_spawn", "posix_spawnp", "syscall", "socket",
    "connect", "bind", "unshare", "setns", "ptrace", "kill", "tgkill", "process_vm_writev",
    "process_vm_readv",
}
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_FILE_EVENTS = {  # audit event -> positions of the paths it changes
    "os.remove": (0,), "os.rmdir": (0,), "shutil.rmtree": (0,), "os.mkdir": (0,), "os.chmod": (0,),
    "os.chown": (0,), "os.utime": (0,), "os.rename": (0, 1), "os.link": (0, 1), "os.symlink": (1,),
    "os.truncate": (0,),
}
_SECRET_MARKERS = (
    "/.ssh/", "/.aws/", "/.azure/", "/.docker/config.json", "/.kube/", "/.config/gcloud/", "/.huggingface/",
    "/huggingface/token", "/.gnupg/", "/etc/shadow", "/etc/gshadow",
)
_SECRET_FILES = ("/.netrc", "/.git-credentials", "/.pypirc", "/.env")
MAX_EVENTS = 1000


class _State:
    def __init__(self) -> None:
        self.roots: tuple[str, ...] = ()
        self.allow_depth = 0
        self.programs: re.Pattern[str] = COMPILER_PROGRAMS
        self.events: list[str] = []
        self.event_fd: int | None = None
        self.status: dict[str, Any] = {}
        self.installed = False
        self.library_roots: tuple[str, ...] = ()
        self.read_roots: tuple[str, ...] = ()
        self.home = ""
        self.local = threading.local()


_state = _State()


def record(event: str) -> None:
    """Record a sandbox event here and, at once, on the parent's event channel."""
    if len(_state.events) < MAX_EVENTS:
        _state.events.append(event)
    if _state.event_fd is not None:
        try:
            os.write(_state.event_fd, (event.replace("\n", " ")[:500] + "\n").encode(errors="replace"))
        except OSError:
            _state.event_fd = None


def progress(_payload: Any = None) -> None:
    """Tell the parent that a kernel launch returned (its compile is over): the call's deadline
    restarts (`Worker.call`). Not an event: the parent reads the line as a heartbeat only."""
    if _state.event_fd is not None:
        try:
            os.write(_state.event_fd, b"\x00progress\n")
        except OSError:
            _state.event_fd = None


def events(_payload: Any = None) -> list[str]:
    """Events recorded in this worker since the last `clear_events()` (callable via Worker.call)."""
    return list(_state.events)


def clear_events(_payload: Any = None) -> None:
    _state.events.clear()


def status(_payload: Any = None) -> dict[str, Any]:
    """What the sandbox achieved at start-up: network isolation, limits, dirs."""
    return dict(_state.status)


@contextlib.contextmanager
def allow_compilers(programs: str | None = None) -> Iterator[None]:
    """Let compile steps start compiler processes (and threads) until the block ends.

    programs: a regular expression of allowed program names (default `COMPILER_PROGRAMS`).
    A program must also live outside the worker's writable dirs.
    """
    previous = _state.programs
    _state.allow_depth += 1
    if programs is not None:
        _state.programs = re.compile(programs)
    try:
        yield
    finally:
        _state.allow_depth -= 1
        _state.programs = previous


def _under_roots(path: Any) -> bool:
    if isinstance(path, int):
        return True  # an already open descriptor; its opening was checked
    try:
        real = os.path.realpath(os.fsdecode(path))
    except (TypeError, ValueError):
        return False
    return any(real == r or real.startswith(r.rstrip("/") + "/") for r in _state.roots)


def _compiling_library_on_stack() -> bool:
    """True when a compiler driver (e.g. Triton recompiling for a new shape) is the caller."""
    frame: Any = sys._getframe(2)
    while frame is not None:
        if frame.f_code.co_filename.startswith(_state.library_roots):
            return True
        frame = frame.f_back
    return False


def _program_allowed(program: Any, env: Any = None) -> bool:
    if program is None or (_state.allow_depth <= 0 and not _compiling_library_on_stack()):
        return False
    name = os.fsdecode(program)
    search = env.get("PATH") if isinstance(env, dict) else None  # None: this process's PATH
    path = name if os.sep in name else shutil.which(name, path=search)
    if not path or _under_roots(path):
        return False
    return bool(_state.programs.match(os.path.basename(path)))


def _block(kind: str, detail: str) -> None:
    record(f"{kind}: {detail}")
    raise PermissionError(f"kernelwright sandbox: {kind} blocked ({detail})")


def _check_network(event: str, args: tuple) -> None:
    address = args[1] if len(args) > 1 else None
    if isinstance(address, tuple) and address:
        host = str(address[0])
        if host in ("127.0.0.1", "::1", "localhost") or host.startswith("127."):
            return
    elif isinstance(address, (str, bytes)) and (not address or address[:1] in ("\0", b"\0") or _under_roots(address)):
        return  # AF_UNIX inside the sandbox dirs, or an abstract socket (per network namespace)
    _block("network", f"{event} {address!r}")


def _check_open(args: tuple) -> None:
    path, mode, flags = (tuple(args) + (None, None, 0))[:3]
    if isinstance(path, int):
        return
    text = os.fsdecode(path) if isinstance(path, (str, bytes, os.PathLike)) else str(path)
    real = os.path.realpath(text)
    match = re.match(r"/proc/(\d+)(/|$)", real)
    if match and int(match.group(1)) not in (os.getpid(), threading.get_native_id()):
        _block("proc", f"open {text}")
    writing = bool((flags or 0) & _WRITE_FLAGS) or (isinstance(mode, str) and any(c in mode for c in "wax+"))
    if writing and not _under_roots(path):
        _block("file", f"write {text}")
    if not writing and _secret(real):
        _block("file", f"read {text}")


def _secret(real: str) -> bool:
    """Credential stores anywhere, and the user's real home outside Python's own paths."""
    if any(marker in real for marker in _SECRET_MARKERS) or real.endswith(_SECRET_FILES):
        return True
    home = _state.home
    return bool(home) and real.startswith(home + "/") and not (real + "/").startswith(_state.read_roots)


def _check_process(event: str, args: tuple) -> None:
    if event == "subprocess.Popen":
        executable, argv = args[0], args[1]
        if executable is None and argv:
            executable = argv if isinstance(argv, (str, bytes)) else argv[0]
        if not _program_allowed(executable, args[3] if len(args) > 3 else None):
            _block("process", f"subprocess {argv!r}"[:300])
    elif event in ("os.exec", "os.posix_spawn"):
        if not _program_allowed(args[0]):
            _block("process", f"{event} {args[0]!r}")
    elif event in ("os.fork", "os.forkpty"):
        if _state.allow_depth <= 0:
            _block("process", event)
    elif event in ("os.system", "os.spawn", "pty.spawn"):
        _block("process", f"{event} {args[:2]!r}"[:300])
    elif event == "ctypes.dlsym":
        name = args[1] if len(args) > 1 else None
        name = os.fsdecode(name) if isinstance(name, (str, bytes)) else None
        if name in _LIBC_DENY:
            _block("process", f"ctypes symbol {name}")


def _check_signal(event: str, args: tuple) -> None:
    target = args[0]
    own = (os.getpid(), 0) if event == "os.kill" else (os.getpgid(0), 0)
    if target not in own:
        _block("signal", f"{event} {target} signal {args[1] if len(args) > 1 else '?'}")


_WATCHED = frozenset({
    "open", "socket.connect", "socket.bind", "socket.sendto", "socket.sendmsg", "subprocess.Popen", "os.exec",
    "os.posix_spawn", "os.fork", "os.forkpty", "os.system", "os.spawn", "pty.spawn", "ctypes.dlsym", "os.kill",
    "os.killpg", "_thread.start_new_thread", *_FILE_EVENTS,
})


def _hook(event: str, args: tuple) -> None:
    if event not in _WATCHED or getattr(_state.local, "busy", False):
        return
    _state.local.busy = True
    try:
        if event == "open":
            _check_open(args)
        elif event in ("socket.connect", "socket.bind", "socket.sendto", "socket.sendmsg"):
            _check_network(event, args)
        elif event in ("subprocess.Popen", "os.exec", "os.posix_spawn", "os.fork", "os.forkpty",
                       "os.system", "os.spawn", "pty.spawn", "ctypes.dlsym"):
            _check_process(event, args)
        elif event in ("os.kill", "os.killpg"):
            _check_signal(event, args)
        elif event in _FILE_EVENTS:
            for index in _FILE_EVENTS[event]:
                path = args[index]
                if not _under_roots(path):
                    _block("file", f"{event} {path!r}")
        elif event == "_thread.start_new_thread" and _state.allow_depth <= 0:
            record(f"thread: started {getattr(args[0], '__qualname__', args[0])!r}")
    except PermissionError:
        raise
    except Exception:  # noqa: BLE001 - a bug here must not break the worker
        pass
    finally:
        _state.local.busy = False


def _record_threads() -> None:
    import _thread

    if sys.version_info >= (3, 13):
        return  # the interpreter raises `_thread.start_new_thread` audit events itself
    original = _thread.start_new_thread

    def start_new_thread(function: Any, *args: Any, **kwargs: Any) -> int:
        if _state.allow_depth <= 0:
            target = getattr(getattr(function, "__self__", None), "_target", None) or function
            record(f"thread: started {getattr(target, '__qualname__', repr(target))!r}")
        return original(function, *args, **kwargs)

    _thread.start_new_thread = start_new_thread
    threading._start_new_thread = start_new_thread  # type: ignore[attr-defined]


def apply(*, workdir: str | None = None, cache_dir: str | None = None, cuda: bool | None = None,
          event_fd: int | None = None, isolate_network: bool = True, file_size_mb: int = 2048,
          open_files: int = 4096, pid_namespace: bool = False, guard_home: bool = True) -> dict[str, Any]:
    """Enter the sandbox (once per process, before candidate code). Returns `status()`.

    Called bare (e.g. in a helper process the Worker did not start), it makes a private work
    dir, scrubs os.environ in place and allows writes to the cache dirs named in the environment.
    """
    if _state.installed:
        return status()
    if cuda is None:
        cuda = os.environ.get("TRITON_INTERPRET") != "1"
    if workdir is None:
        import tempfile

        workdir = tempfile.mkdtemp(prefix="kw-sandbox-")
        kept = child_environment(dict(os.environ), device_index="0", workdir=workdir, cache_dir=workdir)
        for var in CACHE_SUBDIRS:  # keep cache dirs the caller chose
            kept[var] = os.environ.get(var, kept[var])
        kept["CUDA_VISIBLE_DEVICES"] = os.environ.get("CUDA_VISIBLE_DEVICES", "")
        if "CUDA_VISIBLE_DEVICES" not in os.environ:
            kept.pop("CUDA_VISIBLE_DEVICES")
        if "TRITON_INTERPRET" in os.environ:
            kept["TRITON_INTERPRET"] = os.environ["TRITON_INTERPRET"]
        os.environ.clear()
        os.environ.update(kept)
    cache_dir = cache_dir or workdir
    network = sandbox_os.isolate_network() if isolate_network else "not isolated: disabled by the caller"
    limits = sandbox_os.set_limits(cuda, file_size_mb, open_files)
    sys.dont_write_bytecode = True
    os.makedirs(os.path.join(workdir, "tmp"), exist_ok=True)
    os.chdir(workdir)
    roots = [workdir, cache_dir, "/dev/null", *(os.environ[v] for v in CACHE_SUBDIRS if os.environ.get(v))]
    _state.roots = tuple(dict.fromkeys(os.path.realpath(r) for r in roots))
    _state.event_fd = event_fd
    _state.library_roots = sandbox_os.library_roots()
    _state.home, _state.read_roots = (sandbox_os.read_policy(_state.roots, _state.library_roots) if guard_home
                                      else ("", ()))
    _state.status = {
        "network": network, "limits": limits, "workdir": workdir, "cache_dir": cache_dir,
        "pids": "isolated (own PID namespace and /proc)" if pid_namespace else "not isolated",
        "home": f"reads blocked in {_state.home}" if _state.home else "not guarded",
        "write_roots": list(_state.roots),
    }
    _record_threads()
    sys.addaudithook(_hook)
    _state.installed = True
    return status()
