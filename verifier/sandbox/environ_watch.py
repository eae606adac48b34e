"""Environment reads by candidate code, watched in the worker (the dynamic side of `environment_read`).

A kernel that reads environment variables can behave one way under verification and another way
outside it. `install()` replaces `os.environ`, `os.environb` and `posix.environ` with views that
behave the same but report each read, listing or write whose caller is the candidate's own file
(frames of os, posixpath and the mapping machinery are looked through, so `os.getenv` and
`os.path.expandvars` count as the candidate's). Reads from Triton, torch or compilers the
candidate calls are theirs, not reported. TRITON_INTERPRET may be read: it says whether the
Triton interpreter runs, which is the same inside and outside verification. Reads of the GPU
libraries' own settings (CUPY_*, CUDA_*, TORCH_*, ...) are not reported either: a compiled library
(CuPy's Cython core) reads them with no Python frame of its own, so they would look like the
candidate's; the static check still flags a candidate line that names one.
"""
from __future__ import annotations

import collections.abc
import os
import posixpath
import sys
from collections.abc import Callable
from typing import Any

ALLOWED_VARS = frozenset({"TRITON_INTERPRET"})
LIBRARY_PREFIXES = ("CUPY_", "CUDA_", "CUDNN_", "CUBLAS_", "CUTLASS_", "NV", "NCCL_", "TORCH_", "PYTORCH_",
                    "TRITON_", "OMP_", "MKL_", "KMP_")
_THROUGH = frozenset({os.getenv.__code__.co_filename, collections.abc.Mapping.get.__code__.co_filename,
                      posixpath.expandvars.__code__.co_filename})


class _Watch:
    """Who the candidate is (its file name) and where reports go; set by `install`."""

    candidate_file: Callable[[], str] = staticmethod(lambda: "")
    report: Callable[[str], None] = staticmethod(lambda event: None)


def _seen(action: str, key: Any) -> None:
    """Report `action` on `key` when the nearest caller outside os / mapping code is the candidate."""
    name = os.fsdecode(key) if isinstance(key, (str, bytes)) else key
    if action == "read" and (name in ALLOWED_VARS or (isinstance(name, str) and name.startswith(LIBRARY_PREFIXES))):
        return
    target = _Watch.candidate_file()
    if not target:
        return
    frame = _caller_frame()
    while frame is not None and frame.f_code.co_filename in _THROUGH:
        frame = frame.f_back
    if frame is not None and frame.f_code.co_filename == target:
        what = f" {name!r}" if name is not None else ""
        _Watch.report(f"environment: {action}{what} from line {frame.f_lineno}")


def _caller_frame() -> Any:
    """The frame that called the view's method (found through a traceback: sys._getframe would
    raise the audit event that the worker reports as frame introspection by the candidate)."""
    try:
        raise LookupError
    except LookupError as exc:
        return exc.__traceback__.tb_frame.f_back.f_back.f_back  # type: ignore[union-attr]  # _caller_frame <- _seen <- view <- caller


_THROUGH = _THROUGH | {_seen.__code__.co_filename}  # this module's own frames


class WatchedEnviron(os._Environ):  # type: ignore[name-defined,misc]
    """os.environ / os.environb that report the candidate's reads, listings and writes."""

    __kw_counting__ = True  # the verifier's own object in the candidate's namespace: not a forbidden reference

    def __getitem__(self, key: Any) -> Any:
        _seen("read", key)
        return super().__getitem__(key)

    def __setitem__(self, key: Any, value: Any) -> None:
        _seen("write", key)
        super().__setitem__(key, value)

    def __delitem__(self, key: Any) -> None:
        _seen("write", key)
        super().__delitem__(key)

    def __iter__(self) -> Any:
        _seen("list", None)
        return super().__iter__()

    def __repr__(self) -> str:
        _seen("list", None)
        return super().__repr__()

    def copy(self) -> dict:
        _seen("list", None)
        return dict(super().items())


class WatchedDict(dict):
    """posix.environ (bytes to bytes) that reports the candidate's reads and listings."""

    __kw_counting__ = True

    def __getitem__(self, key: Any) -> Any:
        _seen("read", key)
        return super().__getitem__(key)

    def get(self, key: Any, default: Any = None) -> Any:
        _seen("read", key)
        return super().get(key, default)

    def __contains__(self, key: Any) -> bool:
        _seen("read", key)
        return super().__contains__(key)

    def __iter__(self) -> Any:
        _seen("list", None)
        return super().__iter__()

    def keys(self) -> Any:
        _seen("list", None)
        return super().keys()

    def items(self) -> Any:
        _seen("list", None)
        return super().items()

    def values(self) -> Any:
        _seen("list", None)
        return super().values()

    def copy(self) -> dict:
        _seen("list", None)
        return dict(super().items())


def install(candidate_file: Callable[[], str], report: Callable[[str], None]) -> None:
    """Put the watching views in place (once per process); later calls only update the callbacks."""
    _Watch.candidate_file, _Watch.report = staticmethod(candidate_file), staticmethod(report)
    if isinstance(os.environ, WatchedEnviron):
        return
    env = os.environ
    os.environ = WatchedEnviron(env._data, env.encodekey, env.decodekey, env.encodevalue, env.decodevalue)  # type: ignore[attr-defined]  # noqa: B003, E501 - same data (_Environ's private mapping)
    if hasattr(os, "environb"):
        envb = os.environb
        os.environb = WatchedEnviron(envb._data, envb.encodekey, envb.decodekey, envb.encodevalue, envb.decodevalue)  # type: ignore[attr-defined]  # noqa: E501
    native = sys.modules.get("posix") or sys.modules.get("nt")
    if native is not None and isinstance(getattr(native, "environ", None), dict):
        native.environ = WatchedDict(native.environ)  # type: ignore[attr-defined]  # posix / nt, found at run time
