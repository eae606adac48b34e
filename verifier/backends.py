"""Candidate backends: detection, load_inline build caching and parallel precompilation, CuPy hooks.

- Triton: `@triton.jit` kernels; nothing to prepare (Triton caches by itself).
- CuPy: `cupy.RawKernel` / `cupy.RawModule`; optional dependency (extra `cuda13` / `cuda12`).
- load_inline: `torch.utils.cpp_extension.load_inline`; each build goes to a directory keyed by the
  hash of its sources and flags, so a second load of the same source reuses the compiled module.
  Builds of one directory take turns (`build_lock`), which also clears the lock file of a build
  that was killed (a timed-out worker), where torch would otherwise wait forever.
  `precompile(sources)` builds many candidates in parallel CPU processes before verification.
"""
from __future__ import annotations

import ast
import contextlib
import fcntl
import hashlib
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

CUPY_MISSING = "cupy is not installed: pip install kernelwright[cuda13] (or kernelwright[cuda12] on CUDA 12 hosts)"
JIT_DECORATORS = {"triton.jit", "triton.autotune", "triton.heuristics", "triton.runtime.jit",
                  "triton.runtime.jit.jit", "triton.runtime.autotune", "triton.runtime.heuristics"}


def detect_backends(source: str) -> list[str]:
    """Backends a candidate uses, most specific first: triton, cupy, load_inline."""
    found = []
    if re.search(r"^\s*(import triton|from triton)", source, re.M) and "jit" in source:
        found.append("triton")
    if re.search(r"^\s*(import cupy|from cupy)", source, re.M):
        found.append("cupy")
    if "load_inline" in source or re.search(r"cpp_extension\s+import\s+load\b", source):
        found.append("load_inline")
    return found


def detect_backend(source: str) -> str:
    """The candidate's main backend, or "unknown" when it uses none of ours."""
    found = detect_backends(source)
    return found[0] if found else "unknown"


def require_cupy() -> Any:
    """Import cupy or raise ImportError with the install hint."""
    try:
        import cupy
    except ImportError as exc:
        raise ImportError(CUPY_MISSING) from exc
    return cupy


def extensions_root() -> Path:
    """Where load_inline builds go: TORCH_EXTENSIONS_DIR (the sandbox sets it per worker) or a temp dir."""
    root = os.environ.get("TORCH_EXTENSIONS_DIR") or os.path.join(tempfile.gettempdir(), "kernelwright_ext")
    path = Path(root) / "kw_inline"
    path.mkdir(parents=True, exist_ok=True)
    return path


def build_key(args: tuple, kwargs: dict[str, Any]) -> str:
    """Hash of everything that determines a load_inline build (sources, functions, flags)."""
    relevant = {k: v for k, v in kwargs.items() if k not in ("verbose", "build_directory", "name")}
    text = repr(args[1:]) + repr(sorted(relevant.items(), key=lambda kv: kv[0]))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def build_name(args: tuple, kwargs: dict[str, Any]) -> str:
    """The extension's build name: the candidate's name plus the build key (`name_<key>`)."""
    name = args[0] if args else kwargs["name"]
    return f"{re.sub(r'[^A-Za-z0-9_]', '_', str(name))}_{build_key(tuple([name, *args[1:]]), kwargs)}"


@contextlib.contextmanager
def build_lock(build_dir: Path) -> Iterator[None]:
    """Hold the build directory alone while building (an flock, which the kernel drops when its
    holder dies) and remove torch's own `lock` file a killed build left there: torch waits for
    that file to go away with no timeout, so every later build of the same sources would hang."""
    with open(build_dir.parent / f"{build_dir.name}.kwlock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # a live build of the same sources: wait for it to finish
        try:
            (build_dir / "lock").unlink(missing_ok=True)  # every builder holds the flock: this one is stale
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def make_cached_load_inline(original: Callable, on_module: Callable[[Any], Any] | None = None) -> Callable:
    """A load_inline that builds into a source-hash keyed directory and reports the module it made."""

    def load_inline(*positional: Any, **kwargs: Any) -> Any:
        args = list(positional)
        unique = build_name(tuple(args), kwargs)
        build_dir = extensions_root() / unique
        build_dir.mkdir(parents=True, exist_ok=True)
        kwargs["build_directory"] = str(build_dir)
        if args:
            args[0] = unique
        else:
            kwargs["name"] = unique
        with build_lock(build_dir):
            module = original(*args, **kwargs)
        return on_module(module) if on_module else module

    load_inline.__kw_wrapped__ = original  # type: ignore[attr-defined]
    return load_inline


def install_cached_load_inline(on_module: Callable[[Any], Any] | None = None) -> None:
    """Replace torch.utils.cpp_extension.load_inline with the cached one (idempotent)."""
    import torch.utils.cpp_extension as ext

    original = getattr(ext.load_inline, "__kw_wrapped__", ext.load_inline)
    ext.load_inline = make_cached_load_inline(original, on_module)


def _precompile_one(job: tuple[str, str | None]) -> tuple[str, bool, str]:
    """Worker-process body: execute a candidate's module level with the cached load_inline."""
    source, extensions_dir = job
    sha = hashlib.sha256(source.encode()).hexdigest()[:16]
    if extensions_dir:
        os.environ["TORCH_EXTENSIONS_DIR"] = extensions_dir
    try:
        from .sandbox import enter as sandbox  # the same isolation as the verification worker

        work = tempfile.mkdtemp(prefix="kw_precompile_")
        sandbox.apply(workdir=work, cache_dir=str(Path(extensions_root()).parent), cuda=True)
    except Exception:  # noqa: BLE001 - precompiling still works without the sandbox module
        pass
    install_cached_load_inline()
    try:
        from .problem import exec_source

        with _allow_compilers()():
            exec_source(source, f"kw_precompile_{sha}", f"<candidate {sha}>")
        return sha, True, ""
    except Exception as exc:  # noqa: BLE001 - report, the verifier will re-raise it as compile_error
        return sha, False, f"{type(exc).__name__}: {exc}".splitlines()[0][:500]


def _allow_compilers() -> Callable:
    try:
        from .sandbox.enter import allow_compilers

        return allow_compilers
    except ImportError:
        from contextlib import nullcontext

        return nullcontext


def precompile(sources: list[str], extensions_dir: str | None = None,
               max_workers: int | None = None) -> dict[str, tuple[bool, str]]:
    """Build the load_inline extensions of many candidates in parallel CPU processes.

    extensions_dir: the TORCH_EXTENSIONS_DIR of the workers that will verify them (for a pool
    worker, `<worker.cache_dir>/torch_extensions`); builds land in `<dir>/kw_inline/<name>_<hash>`,
    where the worker's load_inline finds them and skips the compiler. Returns {source sha: (ok,
    one-line error)}; only candidates that use load_inline are built.
    """
    todo = [s for s in sources if "load_inline" in detect_backends(s)]
    if not todo:
        return {}
    import multiprocessing as mp

    workers = max_workers or max(1, min(len(todo), (os.cpu_count() or 2) - 1))
    with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn")) as pool:
        return {sha: (ok, msg) for sha, ok, msg in pool.map(_precompile_one, [(s, extensions_dir) for s in todo])}


class CountingRawKernelFactory:
    """Builds CuPy RawKernel / RawModule subclasses whose launches run inside `launching(name)`."""

    def __init__(self, launching: Callable[[str], Any]):
        self.launching = launching

    def install(self, cupy: Any) -> None:
        launching = self.launching
        raw_kernel, raw_module = cupy.RawKernel, cupy.RawModule
        if getattr(raw_kernel, "__kw_counting__", False):
            return

        class RawKernel(raw_kernel):  # type: ignore[misc, valid-type]
            __kw_counting__ = True

            def __call__(self, *args: Any, **kwargs: Any) -> Any:
                with launching(f"cupy:{getattr(self, 'name', 'kernel')}"):
                    return super().__call__(*args, **kwargs)

        class _Function:
            __kw_counting__ = True

            def __init__(self, fn: Any, name: str):
                self._fn, self._name = fn, name

            def __call__(self, *args: Any, **kwargs: Any) -> Any:
                with launching(f"cupy:{self._name}"):
                    return self._fn(*args, **kwargs)

            def __getattr__(self, item: str) -> Any:
                return getattr(self._fn, item)

        class RawModule(raw_module):  # type: ignore[misc, valid-type]
            __kw_counting__ = True

            def get_function(self, name: str) -> Any:
                return _Function(super().get_function(name), name)

        cupy.RawKernel, cupy.RawModule = RawKernel, RawModule


def is_jit_decorator(path: str) -> bool:
    return path in JIT_DECORATORS or (path.startswith("triton")
                                      and path.split(".")[-1] in ("jit", "autotune", "heuristics"))


def uses_module(source: str, name: str) -> bool:
    """Whether the source imports a module (by top-level name)."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] == name for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == name:
            return True
    return False
