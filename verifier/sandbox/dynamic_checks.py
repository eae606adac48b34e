"""Dynamic anti-cheat evidence gathered in the worker while the candidate loads and runs.

- `LaunchTracker`: counts the candidate's own kernel launches -- Triton (wrapping `JITFunction.run`
  and, in interpreter mode, `InterpretedFunction.run`; both are the launch path in Triton 3.x),
  CuPy `RawKernel` / `RawModule` functions, and load_inline extension functions -- and keeps the
  compiled Triton kernels for the profile hook.
- `OpRecorder`: a TorchDispatchMode that records every aten op the forward calls outside a kernel
  launch; ops outside the allocation / view / copy allow-list mean PyTorch computed the answer.
- `snapshot()` / `tampered()`: identities of timers, synchronisation, comparison functions, torch
  classes, builtins and the verifier's modules, compared before and after load and each call.
- `profile_kernels()`: on CUDA, the kernel names and streams torch.profiler saw, to catch library
  kernels (cuBLAS, cuDNN, CUTLASS, PyTorch's own) and work on side streams.
"""
from __future__ import annotations

import builtins
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode

from .. import backends, inputs

ALLOWED_ATEN = {
    "empty", "empty_like", "empty_strided", "new_empty", "new_empty_strided", "zeros", "zeros_like", "new_zeros",
    "ones", "ones_like", "new_ones", "full", "full_like", "new_full", "fill", "fill_", "zero_", "arange",
    "scalar_tensor", "view", "_unsafe_view", "reshape", "_reshape_alias", "as_strided", "expand", "expand_as",
    "permute", "transpose", "t", "select", "slice", "unsqueeze", "squeeze", "unbind", "split", "split_with_sizes",
    "chunk", "narrow", "view_as", "flatten", "unflatten", "contiguous", "clone", "copy_", "_to_copy", "to",
    "detach", "alias", "lift_fresh", "lift_fresh_copy", "resize_", "set_", "record_stream", "_local_scalar_dense",
    "item", "is_same_size", "size", "stride", "numel", "dim", "sym_size", "sym_stride", "sym_numel",
    "sym_storage_offset", "is_contiguous", "_has_compatible_shallow_copy_type", "storage_offset",
    "_copy_from", "_copy_from_and_resize", "movedim", "empty_permuted", "to_sparse", "_to_sparse", "to_dense",
    "_to_dense", "_nested_tensor_from_tensor_list", "_to_sparse_csr", "_to_sparse_coo", "as_strided_",
}
LIBRARY_KERNEL_MARKERS = ("cublas", "cudnn", "cutlass", "xmma", "sgemm", "hgemm", "dgemm", "gemmSN", "gemv2",
                          "gemmk1", "splitKreduce", "cunn_", "at::native", "cub::", "cupy_", "magma", "ampere_",
                          "hopper_", "flash_fwd", "fmha", "nvjet", "cudnn_", "xformers")
TORCH_ALLOWED_KERNELS = ("fill", "Fill", "copy", "Copy", "arange", "zero")
_monotonic = time.monotonic  # the harness's own clock (a candidate may patch time.monotonic)


class LaunchTracker:
    """Counts launches of the candidate's own kernels; pauses op recording while one runs."""

    def __init__(self, allow: Callable[[], Any] | None = None, on_launch: Callable[[], None] | None = None) -> None:
        self.allow = allow or nullcontext  # compilers may run only inside a launch (JIT compile)
        self.on_launch = on_launch  # told (at most once a second) that a launch returned: a heartbeat
        self._told_at = -1.0
        self.launches: Counter[str] = Counter()
        self.depth = 0
        self.kernels: dict[str, Any] = {}
        self.installed = False

    @property
    def in_launch(self) -> bool:
        return self.depth > 0

    def record(self, name: str) -> None:
        self.launches[name] += 1

    def reset(self) -> None:
        self.launches.clear()

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Harness work inside a recorded call (profiler set-up): not the candidate's ops or threads."""
        self.depth += 1
        try:
            with self.allow():
                yield
        finally:
            self.depth -= 1

    @contextmanager
    def launching(self, name: str) -> Iterator[None]:
        """A launch of the candidate's own kernel: counted, and its compiler work allowed."""
        self.record(name)
        with self.paused():
            yield
        self.returned()

    def returned(self) -> None:
        """A launch returned: tell `on_launch`, at most once a second (timed loops stay cheap)."""
        now = _monotonic()
        if self.on_launch is not None and now - self._told_at >= 1.0:
            self._told_at = now
            self.on_launch()

    def install(self) -> None:
        """Install the Triton, CuPy and load_inline hooks (once per process)."""
        if self.installed:
            return
        self._install_triton()
        backends.install_cached_load_inline(self._wrap_extension)
        if "cupy" in sys.modules:
            self.install_cupy()
        self.installed = True

    def install_cupy(self) -> None:
        backends.CountingRawKernelFactory(self.launching).install(sys.modules["cupy"])

    def _install_triton(self) -> None:
        try:
            from triton.runtime import jit
        except ImportError:
            return
        classes = [jit.JITFunction]
        try:
            from triton.runtime.interpreter import InterpretedFunction

            classes.append(InterpretedFunction)
        except ImportError:
            pass
        for cls in classes:
            if "run" in vars(cls) and not getattr(cls.run, "__kw_wrapped__", None):
                cls.run = self._wrap_triton_run(cls.run)

    def _wrap_triton_run(self, original: Callable) -> Callable:
        tracker = self

        def run(fn_self: Any, *args: Any, **kwargs: Any) -> Any:
            name = getattr(getattr(fn_self, "fn", None), "__name__", "kernel")
            if kwargs.get("warmup"):
                return original(fn_self, *args, **kwargs)
            with tracker.launching(f"triton:{name}"):
                kernel = original(fn_self, *args, **kwargs)
            if kernel is not None and not isinstance(kernel, (int, float, bool)):
                tracker.kernels[name] = kernel
            return kernel

        run.__kw_wrapped__ = original  # type: ignore[attr-defined]
        return run

    def _wrap_extension(self, module: Any) -> Any:
        tracker = self
        for attr in dir(module):
            fn = getattr(module, attr)
            if attr.startswith("_") or not callable(fn) or isinstance(fn, type):
                continue

            def counted(*args: Any, __fn: Callable = fn, __name: str = attr, **kwargs: Any) -> Any:
                tracker.record(f"load_inline:{__name}")  # aten ops inside the extension stay recorded
                result = __fn(*args, **kwargs)
                tracker.returned()
                return result

            counted.__kw_wrapped__ = fn  # type: ignore[attr-defined]
            setattr(module, attr, counted)
        return module

    def triton_metadata(self) -> dict[str, dict[str, Any]]:
        """n_regs / n_spills / shared memory of the Triton kernels launched (GPU builds only)."""
        found = {}
        for name, kernel in self.kernels.items():
            meta = getattr(kernel, "metadata", None)
            info = {"n_regs": getattr(kernel, "n_regs", None), "n_spills": getattr(kernel, "n_spills", None),
                    "shared": getattr(meta, "shared", None), "num_warps": getattr(meta, "num_warps", None),
                    "num_stages": getattr(meta, "num_stages", None)}
            if any(v is not None for v in info.values()):
                found[name] = {k: (int(v) if isinstance(v, (int, float)) else v) for k, v in info.items()}
        return found


# allocations whose memory is left as it was: the recorder fills their floating-point results with
# poison (a NaN), so an output the candidate never writes is caught whatever the allocator handed
# back (on the CPU, malloc may return a just-freed copy of an input, not the poisoned blocks)
UNINITIALISED_ATEN = {"empty", "empty_like", "empty_strided", "new_empty", "new_empty_strided", "empty_permuted"}


class OpRecorder(TorchDispatchMode):
    """Records aten ops called outside the candidate's kernel launches, and poisons the memory of
    the uninitialised floating-point tensors it allocates there."""

    def __init__(self, tracker: LaunchTracker):
        super().__init__()
        self.tracker = tracker
        self.ops: Counter[str] = Counter()

    def __torch_dispatch__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        out = func(*args, **(kwargs or {}))
        if not self.tracker.in_launch:
            name = func.overloadpacket.__name__
            self.ops[name] += 1
            if name in UNINITIALISED_ATEN:
                inputs.poison_tensor(out)
        return out

    def compute_ops(self) -> list[str]:
        """Recorded ops that compute (not allocation, view or copy)."""
        return sorted(op for op in self.ops if op.rstrip("_") not in ALLOWED_ATEN and op not in ALLOWED_ATEN)


def still_active(recorder: OpRecorder) -> bool:
    """Whether the recorder is still on the dispatch-mode stack (a candidate may pop it)."""
    try:
        from torch.utils._python_dispatch import _get_current_dispatch_mode_stack

        return any(mode is recorder for mode in _get_current_dispatch_mode_stack())
    except ImportError:  # pragma: no cover - older torch
        return True


TIMER_TARGETS = {
    "time": time, "torch.cuda": torch.cuda, "torch.cuda.Event": torch.cuda.Event,
    "torch.cuda.Stream": torch.cuda.Stream,
}
HARNESS_TARGETS = {
    "torch": torch, "torch.Tensor": torch.Tensor, "torch.nn.Module": torch.nn.Module, "builtins": builtins,
    "torch.testing": torch.testing, "torch.nn.functional": torch.nn.functional,
}


def _callables(namespace: Any) -> dict[str, Any]:
    items = vars(namespace).items() if hasattr(namespace, "__dict__") else []
    return {k: v for k, v in items if callable(v) or isinstance(v, (staticmethod, classmethod, property))}


def snapshot() -> dict[str, dict[str, Any]]:
    """Identities of everything a cheat could patch, grouped as timer / harness."""
    timer = {f"{p}.{k}": v for p, ns in TIMER_TARGETS.items() for k, v in _callables(ns).items()}
    harness = {f"{p}.{k}": v for p, ns in HARNESS_TARGETS.items() for k, v in _callables(ns).items()}
    for name, module in list(sys.modules.items()):
        if name.startswith("kernelwright") and module is not None:
            harness[f"sys.modules[{name}]"] = module
            harness.update({f"{name}.{k}": v for k, v in _callables(module).items()})
        elif name.startswith("triton.runtime") and module is not None:
            harness.update({f"{name}.{k}": v for k, v in _callables(module).items() if isinstance(v, type)})
    try:
        from triton.runtime import jit

        harness["triton.JITFunction.run"] = jit.JITFunction.run
    except ImportError:
        pass
    harness["sys.gettrace"] = sys.gettrace()
    harness["sys.getprofile"] = sys.getprofile()
    return {"timer": timer, "harness": harness}


def tampered(before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]] | None = None) -> dict[str, list[str]]:
    """Names whose identity changed since `before` ({"timer": [...], "harness": [...]}); additions ignored."""
    after = after or snapshot()
    changed: dict[str, list[str]] = {"timer": [], "harness": []}
    for group in ("timer", "harness"):
        for name, obj in before[group].items():
            if name in after[group] and after[group][name] is not obj:
                changed[group].append(name)
            elif name not in after[group] and name.startswith(("time.", "torch.cuda.Event", "builtins.")):
                changed[group].append(name)  # deleted
    return changed


def profile_kernels(fn: Callable[[], Any], marker: Callable[[], Any],
                    pause: Callable[[], Any]) -> tuple[Any, list[dict[str, Any]]]:
    """Run fn under torch.profiler (CUDA); return its result and [{name, stream, own_stream}].

    marker() launches one fill kernel on the caller's stream first; `pause()` hides the
    profiler's and the marker's own work from the op recorder.
    """
    from torch.profiler import ProfilerActivity, profile

    with pause():
        prof = profile(activities=[ProfilerActivity.CUDA])
        prof.__enter__()
        marker()
    try:
        result = fn()
    finally:
        with pause():
            torch.cuda.synchronize()
            prof.__exit__(None, None, None)
    raw = []
    try:
        for event in prof.profiler.kineto_results.events():  # type: ignore[union-attr]  # set once the profile ran
            if "cuda" in str(event.device_type()).lower() and event.name():
                raw.append((event.name(), event.device_resource_id(),
                            event.start_ns() if hasattr(event, "start_ns") else 0,
                            event.duration_ns() if hasattr(event, "duration_ns") else 0))
    except Exception:  # noqa: BLE001 - fall back to names only
        raw = [(e.name, -1, 0, 0) for e in prof.events() if "cuda" in str(getattr(e, "device_type", "")).lower()]
    raw.sort(key=lambda r: r[2])
    marker_stream = next((s for n, s, _, _ in raw if any(m in n for m in ("Fill", "fill"))), -1)
    kernels: list[dict[str, Any]] = [{"name": n, "stream": s, "ns": ns,
                                      "own_stream": s == marker_stream or marker_stream == -1} for n, s, _, ns in raw]
    # drop the first fill (our marker)
    for i, k in enumerate(kernels):
        if "fill" in k["name"].lower():
            kernels.pop(i)
            break
    return result, kernels


def _looks_like_library(name: str) -> bool:
    return any(m in name for m in LIBRARY_KERNEL_MARKERS)


def own_time_share(kernels: list[dict[str, Any]], libs: list[str]) -> float | None:
    """Share of the profiled kernel time spent in the candidate's own kernels: not library kernels, not
    PyTorch's (at::native copies included), not memcpy / memset. Fills are left out of the total: they
    initialise memory, and the verifier's own poisoning of each uninitialised output is one. None when
    nothing was timed."""
    def foreign(name: str) -> bool:
        return name in libs or "at::native" in name or name.startswith(("Memcpy", "Memset", "[memory]"))

    timed = [k for k in kernels if "FillFunctor" not in k["name"]]
    total = sum(k.get("ns") or 0 for k in timed)
    if total <= 0:
        return None
    return sum(k.get("ns") or 0 for k in timed if not foreign(k["name"])) / total


def library_kernels(kernels: list[dict[str, Any]], own: tuple[str, ...] = ()) -> list[str]:
    """Kernel names that belong to cuBLAS / cuDNN / CUTLASS / PyTorch / CuPy rather than the candidate.

    own: names of kernels the candidate launched itself (never counted as library kernels).
    """
    names = []
    for k in kernels:
        name = k["name"]
        if any(o and (name == o or (o in name and not _looks_like_library(o))) for o in own):
            continue
        if name.startswith(("Memcpy", "Memset", "[memory]")):
            continue
        if any(m in name for m in LIBRARY_KERNEL_MARKERS) and not any(a in name for a in TORCH_ALLOWED_KERNELS):
            names.append(name)
    return sorted(set(names))
