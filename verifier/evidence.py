"""Parent-side reading of what the worker reported: reference outputs, rules fired per run.

Everything here runs in the trusted judge process. The reference is computed here (float64 where
the op allows), after the candidate's run, in a different process from the candidate.
"""
from __future__ import annotations

import copy
import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

import torch

from . import backward
from .chunks import flat_pieces
from .correctness import (
    Comparison,
    Tolerance,
    compare,
    dtype_name,
    exactly_equal,
    flatten,
    layout_mismatch,
    same_within,
    tolerance_for,
)
from .inputs import poisoned_count
from .problem import Problem
from .reference_model import own_copy, reference_model
from .sandbox import dynamic_checks

# Blocked probes that libraries make on their own (platform.architecture() runs `file -b python`).
BENIGN_EVENT = re.compile(r"^process: subprocess \[?'(?:[^']*/)?(file|uname)'")


@dataclass
class Fired:
    """Rules fired so far, in order, with one message each."""

    rules: list[str] = field(default_factory=list)
    messages: dict[str, str] = field(default_factory=dict)

    def add(self, rule: str, message: str) -> None:
        if rule not in self.rules:
            self.rules.append(rule)
            self.messages[rule] = message

    def __bool__(self) -> bool:
        return bool(self.rules)


@dataclass
class Reference:
    outputs: list[torch.Tensor]  # float64 (or native) tensors on the judge's reference device
    dtypes: list[torch.dtype | None]  # the reference's native output dtypes (None: not a tensor)
    float64: bool
    gradients_from: int | None = None  # problems with a backward pass: the index of the first gradient

    def tolerance(self, index: int, dtype: torch.dtype, metadata: dict[str, Any]) -> Tolerance:
        """The tolerance of output `index`: the problem's, or for a gradient its GRAD_ATOL / GRAD_RTOL at the
        precision of the least precise gradient (a float32 parameter's gradient of a bf16 problem is summed
        from bf16 products, so it is judged as bf16)."""
        if self.gradients_from is None or index < self.gradients_from:
            return tolerance_for(dtype, metadata)
        floats = [d for d in self.dtypes[self.gradients_from:] if d is not None and d.is_floating_point]
        coarsest = max([dtype, *floats], key=lambda d: torch.finfo(d).eps if d.is_floating_point else 0.0)
        return tolerance_for(coarsest, backward.gradient_metadata(metadata))


def reference_outputs(problem: Problem, overrides: dict[str, Any], inputs: list, seed: int,
                      device: str = "cpu") -> Reference:
    """Run the reference Model on the trial inputs: float64 when it allows, else native dtype."""
    model = _with_gradients(problem, reference_model(problem, overrides, seed))
    dtypes = _native_dtypes(model, inputs)
    with torch.no_grad():
        try:
            m64 = copy.deepcopy(model).to(device).double()
            xs = [x.to(device, torch.float64) if _is_float(x) else _to(x, device) for x in inputs]
            outs = [o.detach() if isinstance(o, torch.Tensor) else o for o in flatten(m64(*xs))]  # on `device`
            if dtypes is None:
                dtypes = [_native_dtype_guess(o, inputs) for o in outs]
            return Reference(outs, dtypes, True, _gradients_from(model, inputs, outs))
        except Exception:  # noqa: BLE001 - the op has no float64 kernel: use the native dtype
            pass
        native_model = _with_gradients(problem, own_copy(problem, overrides, seed)).to(device)
        native = native_model(*[_to(x, device) for x in inputs])
        outs = [o.detach() if isinstance(o, torch.Tensor) else o for o in flatten(native)]
        return Reference(outs, [o.dtype if isinstance(o, torch.Tensor) else None for o in outs], False,
                         _gradients_from(model, inputs, outs))


def eager_outputs(problem: Problem, overrides: dict[str, Any], inputs: list, seed: int, device: str = "cpu") -> list:
    """The reference Model in its own dtype on the trial inputs: what eager PyTorch gives a user."""
    model = _with_gradients(problem, own_copy(problem, overrides, seed))
    with torch.no_grad():
        out = model.to(device)(*[_to(x, device) for x in inputs])
    return [o.detach() if isinstance(o, torch.Tensor) else o for o in flatten(out)]


def _with_gradients(problem: Problem, model: Any) -> Any:
    """The model, or for a problem that declares a backward pass its outputs-and-gradients wrapper."""
    return backward.WithGradients(model) if backward.declared(problem.metadata) else model


def _gradients_from(model: Any, inputs: list, outputs: list) -> int | None:
    """Where the gradients start among a `WithGradients` model's outputs (None for other models)."""
    if not isinstance(model, backward.WithGradients):
        return None
    return len(outputs) - backward.gradient_count(inputs, model.names)


def _native_dtypes(model: torch.nn.Module, inputs: list) -> list[torch.dtype | None] | None:
    """Output dtypes of the native reference, from a run on the meta device (no compute)."""
    try:
        meta_model = copy.deepcopy(model).to("meta")
        with torch.no_grad():
            outs = flatten(meta_model(*[_to(x, "meta") for x in inputs]))
        return [o.dtype if isinstance(o, torch.Tensor) else None for o in outs]
    except Exception:  # noqa: BLE001 - some ops have no meta kernel
        return None


def _native_dtype_guess(out: Any, inputs: list) -> torch.dtype | None:
    floats = [x.dtype for x in inputs if _is_float(x)]
    if floats and isinstance(out, torch.Tensor) and out.dtype == torch.float64:
        return floats[0]
    return getattr(out, "dtype", None)


def _is_float(x: Any) -> bool:
    return isinstance(x, torch.Tensor) and x.dtype.is_floating_point


def _to(x: Any, device: str) -> Any:
    return x.to(device) if isinstance(x, torch.Tensor) else x


def check_outputs(records: list[dict[str, Any]], ref: Reference, metadata: dict[str, Any],
                  device_type: str, fired: Fired, tolerances: list[Tolerance | None] | None = None) -> Comparison:
    """Type, density, shape, dtype, device, layout, poison and value checks of one run's outputs.

    `tolerances`: per-output tolerances that replace the metadata's (robustness trials)."""
    worst = Comparison()
    if len(records) != len(ref.outputs):
        fired.add("shape_mismatch", f"returned {len(records)} outputs, the reference returns {len(ref.outputs)}")
        worst.rules.append("shape_mismatch")
        return worst
    for index, (rec, expected, dtype) in enumerate(zip(records, ref.outputs, ref.dtypes)):
        where = f"output {index}" if len(records) > 1 else "output"
        if rec["is_tensor"] and rec.get("device") != device_type:
            fired.add("device_mismatch", f"{where} is on {rec.get('device')}, the reference on {device_type}")
            worst.rules.append("device_mismatch")
        elif not rec["is_tensor"] or not rec["dense"]:
            fired.add("not_dense_tensor", f"{where} is a {rec['type']}, not a plain dense torch.Tensor")
            worst.rules.append("not_dense_tensor")
        out = rec.get("tensor")
        if out is None:  # not fetched: only a shape that differs from the reference's needs no values
            shape = tuple(expected.shape) if isinstance(expected, torch.Tensor) else ()
            if rec["is_tensor"] and rec.get("shape") is not None and tuple(rec["shape"]) != shape:
                fired.add("shape_mismatch", f"{where}: shape {tuple(rec['shape'])} != reference {shape}")
                worst.rules.append("shape_mismatch")
            continue
        if dtype is not None and rec.get("dtype") != dtype_name(dtype):
            fired.add("dtype_mismatch", f"{where} dtype {rec.get('dtype')} != reference {dtype_name(dtype)}")
        layout = layout_mismatch(rec.get("stride"), expected)
        if layout:
            fired.add("output_layout", f"{where}: {layout}")
        poisoned = poisoned_count(out)
        if poisoned:
            fired.add("reused_reference_output", f"{where}: {poisoned} elements never written (poisoned memory)")
        if not isinstance(expected, torch.Tensor):  # a Python number from the reference
            expected = torch.as_tensor(expected, dtype=torch.float64)
        tol = tolerances[index] if tolerances and index < len(tolerances) else None
        result = compare(out, expected, tol or ref.tolerance(index, dtype or out.dtype, metadata))
        for rule, note in zip(result.rules, result.notes):
            fired.add(rule, f"{where}: {note}")
        worst = _worse(worst, result)
    return worst


def _worse(a: Comparison, b: Comparison) -> Comparison:
    merged = Comparison(rules=a.rules + [r for r in b.rules if r not in a.rules], notes=a.notes + b.notes)
    for name in ("max_abs_err", "max_rel_err", "rel_norm_err"):
        values = [v for v in (getattr(a, name), getattr(b, name)) if v is not None]
        setattr(merged, name, max(values) if values else None)
    merged.mismatched = a.mismatched + b.mismatched
    return merged


def own_names(run: dict[str, Any]) -> tuple[str, ...]:
    """Names of the kernels the candidate launched through the launch hooks (load_inline ones have none)."""
    return tuple(name.split(":", 1)[-1] for name in run.get("launches") or {} if not name.startswith("load_inline:"))


def own_time_share(run: dict[str, Any]) -> float | None:
    """The candidate's own kernels' share of one profiled run's kernel time (None: not profiled)."""
    kernels = run.get("kernels") or []
    return dynamic_checks.own_time_share(kernels, dynamic_checks.library_kernels(kernels, own_names(run)))


def check_run_evidence(run: dict[str, Any], device_type: str, fired: Fired) -> None:
    """Anti-cheat rules from one run: launches, compute ops, kernels, streams, aliasing."""
    launches, kernels = run.get("launches") or {}, run.get("kernels") or []
    libs = dynamic_checks.library_kernels(kernels, own_names(run))
    own_kernels = [k for k in kernels if k["name"] not in libs and not k["name"].startswith(("Memcpy", "Memset"))]
    if not launches and not (device_type == "cuda" and own_kernels):
        fired.add("no_kernel_launched", "no Triton, CuPy or load_inline kernel of the candidate ran in forward")
    if run.get("compute_ops"):
        fired.add("reference_ops", f"forward computed with PyTorch ops: {', '.join(run['compute_ops'][:8])}")
    if libs:
        fired.add("library_kernel", f"library kernels ran: {', '.join(libs[:4])}")
    if any(not k.get("own_stream", True) for k in kernels):
        fired.add("side_stream", "kernels ran on a stream other than the caller's")
    if run.get("recorder_popped"):
        fired.add("harness_tampering", "the verifier's op recorder was removed from the dispatch stack")
    for out_index, in_index in run.get("aliases") or []:
        fired.add("output_aliases_input", f"output {out_index} shares memory with input {in_index}")


def check_process_evidence(report: dict[str, Any], parent_events: list[str], fired: Fired) -> None:
    """Tampering, threads and sandbox events reported after a load or run call."""
    tamper = report.get("tamper") or {}
    if tamper.get("timer"):
        fired.add("timer_tampering", f"replaced: {', '.join(sorted(tamper['timer'])[:5])}")
    if tamper.get("harness"):
        fired.add("harness_tampering", f"replaced: {', '.join(sorted(tamper['harness'])[:5])}")
    for event in list(dict.fromkeys([*parent_events, *(report.get("events") or [])])):
        if BENIGN_EVENT.search(event):
            continue
        rule = event.split(":", 1)[0]
        if rule in ("reference_access", "forbidden_import"):
            fired.add(rule, event[:200])
        elif rule == "environment":
            fired.add("environment_read", event[:200])
        elif event.startswith("thread"):
            fired.add("threads", event[:200])
        else:
            fired.add("side_effects", event[:200])


def inputs_changed(before: list, after: list) -> list[int]:
    """Indices of inputs whose values changed during the call."""
    changed = []
    for i, (a, b) in enumerate(zip(before, after)):
        if isinstance(a, torch.Tensor) and not (isinstance(b, torch.Tensor) and a.shape == b.shape and
                                                a.dtype == b.dtype and (exactly_equal(a, b) or a.numel() == 0)):
            changed.append(i)
    return changed


def runs_differ(first: list[dict[str, Any]], second: list[dict[str, Any]], metadata: dict[str, Any]) -> bool:
    """Whether two runs on the same inputs disagree beyond rounding."""
    for a, b in zip(first, second):
        ta, tb = a.get("tensor"), b.get("tensor")
        if isinstance(ta, torch.Tensor) and isinstance(tb, torch.Tensor):
            if not same_within(ta, tb, tolerance_for(ta.dtype, metadata)):
                return True
    return False


def fingerprint(records: list[dict[str, Any]]) -> str:
    """Digest of a run's outputs, to spot the same output returned for different inputs.

    Shape, dtype, the float64 sum (piece by piece: no full float64 copy) and up to 65536 evenly
    spaced elements: computed where the output lives, so a GPU output is not copied whole to the host.
    """
    digest = hashlib.sha1()
    for rec in records:
        t = rec.get("tensor")
        if isinstance(t, torch.Tensor) and t.numel():
            flat = t.detach().reshape(-1)
            step = max(1, flat.numel() // 65536)
            total = 0.0 if flat.is_complex() else sum(float(p.sum()) for p in flat_pieces(flat, dtype=torch.float64))
            digest.update(str((tuple(t.shape), t.dtype, total)).encode())
            digest.update(flat[::step].contiguous().cpu().view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def output_nbytes(records: list[dict[str, Any]]) -> list[int]:
    return [rec["tensor"].numel() * rec["tensor"].element_size() for rec in records
            if isinstance(rec.get("tensor"), torch.Tensor)]
