"""The OS-level layers of the sandbox and the path policies it derives at start-up."""
from __future__ import annotations

import ctypes
import os
import resource
import sys

CLONE_NEWNET = 0x40000000


def isolate_network() -> str:
    """Move this process into a new network namespace; say whether it worked."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.unshare(CLONE_NEWNET) != 0:
            return f"not isolated: unshare failed: {os.strerror(ctypes.get_errno())}"
    except (OSError, AttributeError) as exc:
        return f"not isolated: {exc}"
    return "isolated (new network namespace)"


def set_limits(cuda: bool, file_size_mb: int, open_files: int) -> dict[str, int]:
    """No core files, bounded file size and descriptors; address space only on CPU (CUDA maps huge ranges)."""
    limits = {"RLIMIT_CORE": 0, "RLIMIT_FSIZE": file_size_mb << 20, "RLIMIT_NOFILE": open_files}
    if not cuda:
        physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        limits["RLIMIT_AS"] = max(8 << 30, int(physical * 0.75))
    applied = {}
    for name, value in limits.items():
        which = getattr(resource, name)
        _, hard = resource.getrlimit(which)
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        try:
            resource.setrlimit(which, (value, hard if name != "RLIMIT_CORE" else value))
            applied[name] = value
        except (ValueError, OSError):
            pass
    return applied


def library_roots() -> tuple[str, ...]:
    """Package dirs of the compilers' Python drivers (Triton, torch extensions, CuPy)."""
    import importlib.util

    roots = []
    for name in ("triton", "torch", "cupy", "cupy_backends"):
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        for location in (spec.submodule_search_locations or []) if spec else []:
            roots += [os.path.realpath(location) + os.sep, os.path.abspath(location) + os.sep]
    return tuple(dict.fromkeys(roots))


def read_policy(write_roots: tuple[str, ...], library_roots: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    """The user's real home (from the password database) and the paths readable inside it."""
    import pwd

    try:
        home = os.path.realpath(pwd.getpwuid(os.getuid()).pw_dir)
    except (KeyError, OSError):
        return "", ()
    if home in ("/", ""):
        return "", ()
    places = [*sys.path, sys.prefix, sys.base_prefix, sys.exec_prefix, *write_roots]
    roots = {os.path.realpath(p) for p in places if p and os.path.exists(p)}
    roots = {r for r in roots if r != home and r != "/"}
    return home, tuple(r.rstrip("/") + "/" for r in roots) + tuple(library_roots)
