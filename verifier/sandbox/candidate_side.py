"""What the sandboxed worker runs for the judge: load the candidate, run it with evidence, time it.

Every function takes one payload dict and returns plain values and CPU tensors (the parent reads
them with an allow-list unpickler). Failures the candidate causes come back as
{"ok": False, "kind": compile_error | runtime_error, ...}; the judge maps them to verdicts.
Module-level state (`STATE`) keeps the loaded candidate, hooks and cached inputs between calls.
"""
from __future__ import annotations

import gc
import linecache
import os
import sys
import threading
import traceback
import types
from contextlib import nullcontext
from types import SimpleNamespace
from typing import Any

import torch
import torch._dynamo  # noqa: F401 - importing it rebinds torch.manual_seed; do it before any snapshot

from .. import backends, backward
from .. import inputs as inputs_mod
from ..correctness import flatten
from ..problem import LoadError, exec_source, source_sha
from . import dynamic_checks, environ_watch, transport

STICKY_CUDA = ("illegal memory access", "unspecified launch failure", "misaligned address",
               "illegal instruction", "device-side assert", "an illegal", "CUDA error: launch")
COMPILE_ERRORS = ("CompilationError", "CompileException", "NVRTCError", "PTXASError", "BuildError")

STATE = SimpleNamespace(tracker=None, model=None, device=None, before=None, sets={}, baselines={}, peaks=None,
                     threads=set(), backend="unknown", baseline_stats={}, candidate_file="",
                     access=[], audit=False, pending=[])


AUDITED = ("sys._getframe", "sys._current_frames", "gc.get_objects", "gc.get_referrers", "gc.get_referents",
           "object.__getattr__")
# object.__getattr__ events that hand out a frame without sys._getframe (a traceback's, a generator's
# or a coroutine's: each links back to its callers); other restricted attributes (f_code) are routine
FRAME_ATTRS = {"tb_frame", "gi_frame", "cr_frame", "ag_frame"}
_GUARD = threading.local()


def _audit(event: str, args: tuple) -> None:
    """Report frame / gc introspection that candidate code does (the reference is not here, but it tried)."""
    if event not in AUDITED or not STATE.candidate_file or getattr(_GUARD, "on", False):
        return
    if event == "object.__getattr__" and (len(args) < 2 or args[1] not in FRAME_ATTRS or _in_launch()):
        return  # a compiler formatting its own traceback inside a launch is not the candidate
    _GUARD.on = True
    try:
        frame: types.FrameType | None = sys._getframe(1)
        # a frame attribute counts only when the candidate's own line reads it: libraries it calls
        # (CuPy, torch) read tracebacks' frames while handling their own exceptions
        for _ in range(1 if event == "object.__getattr__" else 6):
            if frame is None:
                break
            if frame.f_code.co_filename == STATE.candidate_file:
                what = f"{event} {args[1]}" if event == "object.__getattr__" else event
                _report(f"reference_access: {what} from line {frame.f_lineno}")
                break
            frame = frame.f_back
    except Exception:  # noqa: BLE001 - never break the candidate's call from here
        pass
    finally:
        _GUARD.on = False


def _in_launch() -> bool:
    return STATE.tracker is not None and STATE.tracker.in_launch


def _report(event: str) -> None:
    try:
        from .enter import record  # written to the parent at once, where the candidate cannot erase it

        record(event)
    except ImportError:  # pragma: no cover
        STATE.access.append(event)


def allow_candidate():
    try:
        from .enter import allow_compilers

        return allow_compilers()
    except ImportError:  # pragma: no cover - in-process use without H1's sandbox
        return nullcontext()


def _progress() -> None:
    try:
        from .enter import progress

        progress()
    except ImportError:  # pragma: no cover
        pass


def _sandbox_events() -> list[str]:
    try:
        from . import enter as sandbox

        found = sandbox.events()
        sandbox.clear_events()
        return found
    except ImportError:  # pragma: no cover
        return []


def launch_tracker() -> dynamic_checks.LaunchTracker:
    if STATE.tracker is None:
        STATE.tracker = dynamic_checks.LaunchTracker(allow=allow_candidate, on_launch=_progress)
        STATE.tracker.install()
    return STATE.tracker


def failure_report(kind: str, stage: str, exc: BaseException, **extra: Any) -> dict[str, Any]:
    text = f"{type(exc).__name__}: {exc}"
    try:
        extra = {**evidence_since_load(), **extra} if STATE.before is not None else extra
    except Exception:  # noqa: BLE001 - evidence is best effort once the candidate broke things
        pass
    return {"ok": False, "kind": kind, "stage": stage,
            "message": text.strip().splitlines()[0][:400] if text.strip() else "",
            "log": (text + "\n" + traceback.format_exc())[-12000:], **extra}


def classify(exc: BaseException) -> str:
    """compile_error for compiler failures, runtime_error for everything else."""
    names = {t.__name__ for t in type(exc).__mro__}
    module = type(exc).__module__ or ""
    if names & set(COMPILE_ERRORS) or module.startswith("triton.compiler"):
        return "compile_error"
    return "runtime_error"


def is_sticky(message: str) -> bool:
    return any(marker in message for marker in STICKY_CUDA)


def load(payload: dict[str, Any]) -> dict[str, Any]:
    """Exec the candidate source, build ModelNew with the init inputs and the reference's state."""
    device = torch.device(payload["device"])
    STATE.device, STATE.model = device, None
    source, label = payload["source"], payload["label"]
    tracker = launch_tracker()
    STATE.backend = backends.detect_backend(source)
    if backends.uses_module(source, "cupy"):
        try:
            with allow_candidate():
                backends.require_cupy()
        except ImportError as exc:
            return {"ok": False, "kind": "compile_error", "stage": "compile", "message": str(exc), "log": ""}
        try:
            tracker.install_cupy()
        except Exception as exc:  # noqa: BLE001 - launch evidence then comes from the profiler alone
            print(f"kernelwright: cupy launch hooks not installed: {exc}")
    if device.type == "cuda":
        _warm_cuda(device)
    STATE.threads = {t.ident for t in threading.enumerate()}
    _sandbox_events()
    STATE.before = dynamic_checks.snapshot()
    if not os.path.isfile(label):
        # Triton (not the interpreter) reads kernel source through inspect: give it a linecache entry
        label = f"<candidate {source_sha(source)}>"
        linecache.cache[label] = (len(source), None, source.splitlines(True), label)
    if not STATE.audit:
        sys.addaudithook(_audit)
        environ_watch.install(lambda: STATE.candidate_file, _report)  # environment reads from the candidate's file
        STATE.audit = True
    STATE.candidate_file = label
    try:
        with allow_candidate():
            module = exec_source(source, f"kw_candidate_{source_sha(source)}", label)
    except LoadError as exc:
        return {"ok": False, "kind": "compile_error", "stage": "load", "message": str(exc)[:2000],
                "log": str(exc)[-12000:]}
    for name in _forbidden_refs(module):
        _report(f"forbidden_import: module global {name!r} refers to the verifier or the problem")
    if not isinstance(getattr(module, "ModelNew", None), type):
        return {"ok": False, "kind": "compile_error", "stage": "load", "message": f"{label}: no class ModelNew",
                "log": ""}
    try:
        inputs_mod.seed_all(payload.get("seed", 0))
        with allow_candidate():
            model = module.ModelNew(*payload.get("init_inputs", []))
        _copy_state(model, payload.get("state_dict") or {})
        model = model.to(device)
    except Exception as exc:  # noqa: BLE001 - the candidate's constructor failed
        return failure_report("compile_error", "load", exc)
    STATE.model = model
    return {"ok": True, "backend": STATE.backend, **evidence_since_load()}


def _warm_cuda(device: torch.device) -> None:
    """Initialise CUDA and the profiler before the tamper snapshot, so their lazy set-up is not blamed."""
    import torch.profiler  # noqa: F401

    with allow_candidate():
        torch.zeros(1, device=device).zero_()
        torch.cuda.synchronize()


def _forbidden_refs(module: types.ModuleType) -> list[str]:
    """Globals of the candidate that hold kernelwright or problem modules / objects (our hooks aside)."""
    found = []
    for name, value in list(vars(module).items()):
        if getattr(value, "__kw_wrapped__", None) is not None or getattr(value, "__kw_counting__", False):
            continue
        owner = value.__name__ if isinstance(value, types.ModuleType) else getattr(value, "__module__", None)
        if isinstance(owner, str) and owner.startswith(("kernelwright", "kw_problem")):
            found.append(name)
    return found


def ping(_payload: Any = None) -> bool:
    """A no-op call: starts the worker so that its start-up events can be drained before the candidate."""
    return True


def _copy_state(model: Any, state: dict[str, torch.Tensor]) -> None:
    """Give ModelNew the reference's parameters where names and shapes match."""
    if not state or not isinstance(model, torch.nn.Module):
        return
    own = model.state_dict()
    matching = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
    if matching:
        model.load_state_dict(matching, strict=False)


def evidence_since_load() -> dict[str, Any]:
    current = {t.ident for t in threading.enumerate()}
    new_threads = [t.name for t in threading.enumerate() if t.ident in current - STATE.threads and t.is_alive()]
    return {"tamper": dynamic_checks.tampered(STATE.before), "events": _sandbox_events(), "new_threads": new_threads}


def record_outputs(out: Any, keep: list | None = None) -> dict[str, Any]:
    """What the parent needs to judge one output. With `keep`, a CUDA output stays here until the
    parent fetches it (`fetch`); otherwise it travels as a CPU copy."""
    if not isinstance(out, torch.Tensor):
        return {"is_tensor": False, "type": type(out).__qualname__, "dense": False, "tensor": None}
    dense = type(out) is torch.Tensor and out.layout == torch.strided
    plain = out if type(out) is torch.Tensor else torch.Tensor.as_subclass(out, torch.Tensor)
    if plain.layout != torch.strided:
        plain = plain.to_dense()
    record = {"is_tensor": True, "type": type(out).__qualname__, "device": out.device.type,
              "dtype": str(out.dtype).replace("torch.", ""), "shape": list(out.shape),
              "stride": list(plain.stride()) if plain.layout == torch.strided else None, "tensor": None}
    if plain.device.type not in ("cpu", "cuda"):
        return {**record, "dense": False}
    if keep is not None and plain.device.type == "cuda":
        keep.append(plain.detach())
        return {**record, "dense": dense, "pending": len(keep) - 1}
    try:
        host = plain.detach().to("cpu").clone()
    except Exception:  # noqa: BLE001 - meta / lazy tensors have no data to compare
        host = None
    return {**record, "dense": dense and host is not None, "tensor": host}


def fetch(payload: dict[str, Any]) -> dict[str, Any]:
    """Copy kept outputs into buffers the parent shared: {"buffers": [[pending index, record]]}.
    The copies sent are dropped here and their memory given back (the parent holds them now)."""
    for index, record in payload["buffers"]:
        transport.open_shared(record, STATE.device).copy_(STATE.pending[index])
    torch.cuda.synchronize(STATE.device)
    for index, _ in payload["buffers"]:
        STATE.pending[index] = None
    torch.cuda.empty_cache()
    return {"ok": True}


def release(_payload: Any = None) -> dict[str, Any]:
    """Drop what one verification left here (the candidate, its kept outputs, timing input sets,
    baseline models) and give cached GPU memory back, so the next job or the GPU's other worker
    gets it. Reports the bytes this process still reserves (the judge restarts a worker that holds on)."""
    STATE.model, STATE.pending, STATE.sets, STATE.baselines = None, [], {}, {}
    gc.collect()
    cupy = sys.modules.get("cupy")
    if cupy is not None:  # CuPy kernels allocate from CuPy's own pool
        try:
            cupy.get_default_memory_pool().free_all_blocks()
        except Exception:  # noqa: BLE001 - a broken CuPy only costs its cached blocks
            pass
    reserved = 0
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.empty_cache()
        reserved = int(torch.cuda.memory_reserved())
    return {"ok": True, "reserved": reserved}


def _overlaps(outputs: list[Any], inputs: list[Any]) -> list[list[int]]:
    """(output index, input index) pairs whose storages overlap."""
    pairs = []
    for i, out in enumerate(outputs):
        if not isinstance(out, torch.Tensor):
            continue
        try:
            o_lo = out.untyped_storage().data_ptr()
            o_hi = o_lo + out.untyped_storage().nbytes()
        except Exception:  # noqa: BLE001 - a tensor without storage cannot alias
            continue
        for j, x in enumerate(inputs):
            if isinstance(x, torch.Tensor) and x.device == out.device:
                lo = x.untyped_storage().data_ptr()
                hi = lo + x.untyped_storage().nbytes()
                if o_lo < hi and lo < o_hi and o_hi > o_lo:
                    pairs.append([i, j])
    return pairs


def run(payload: dict[str, Any]) -> dict[str, Any]:
    """Run the loaded candidate `repeat` times on the inputs, with evidence.

    On a GPU the inputs are the parent's own memory (`transport`), so the parent sees any change
    the candidate makes to them, and outputs stay here until the parent fetches them. On the CPU
    the inputs arrive as copies and their state after the call is sent back.
    """
    model, device, tracker = STATE.model, STATE.device, launch_tracker()
    if payload.get("backward_params") is not None:  # a BACKWARD problem: outputs, then gradients
        model = backward.WithGradients(model, payload["backward_params"], harness=tracker.paused)
    STATE.pending = []
    keep = STATE.pending if device.type == "cuda" else None
    # the repeat run gets the very same tensors: a memo keyed on them is then hit
    dev_inputs, shared = transport.open_all(payload["inputs"], device)
    results = []
    for rep in range(int(payload.get("repeat", 1))):
        if device.type == "cuda":
            torch.cuda.synchronize()
        inputs_mod.poison_memory(device, list(payload.get("poison_sizes", [])) + inputs_mod.input_nbytes(dev_inputs))
        tracker.reset()
        recorder = dynamic_checks.OpRecorder(tracker)
        kernels: list[dict[str, Any]] = []
        popped = False
        try:
            with torch.no_grad():  # compilers are allowed only inside a launch (LaunchTracker)
                with recorder:
                    if payload.get("profile_kernels") and device.type == "cuda" and rep == 0:
                        marker = torch.zeros(1, device=device)
                        out, kernels = dynamic_checks.profile_kernels(lambda: model(*dev_inputs), marker.zero_,
                                                                      tracker.paused)
                    else:
                        out = model(*dev_inputs)
                    popped = not dynamic_checks.still_active(recorder)
                if device.type == "cuda":
                    torch.cuda.synchronize()
        except Exception as exc:  # noqa: BLE001 - the candidate failed while running
            kind = classify(exc)
            return failure_report(kind, "compile" if kind == "compile_error" else "correctness", exc,
                            sticky=is_sticky(str(exc)))
        outputs = flatten(out)
        results.append({
            "outputs": [record_outputs(o, keep) for o in outputs],
            "aliases": _overlaps(outputs, dev_inputs),
            "launches": dict(tracker.launches),
            "compute_ops": recorder.compute_ops(),
            "recorder_popped": popped,
            "kernels": kernels,
            "inputs_after": [x.detach().to("cpu").clone() if isinstance(x, torch.Tensor) else x for x in dev_inputs]
            if rep == 0 and not shared else [],
        })
        del out, outputs
    return {"ok": True, "runs": results, **evidence_since_load()}


def profile_meta(_payload: Any = None) -> dict[str, Any]:
    """Triton compile metadata (registers, spills, shared memory) of the kernels launched so far."""
    return launch_tracker().triton_metadata()
