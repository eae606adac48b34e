"""Names of every rule the verifier enforces. Verdicts cite these ids in `rule` and `flags`.

Correctness rules make a verdict `incorrect`; anti-cheat rules make it `rejected`.
Tests and the cheat zoo refer to rules by these ids only.
"""
from __future__ import annotations

CORRECTNESS_RULES: dict[str, str] = {
    "shape_mismatch": "output shape differs from the reference",
    "dtype_mismatch": "output dtype differs from the reference",
    "output_layout": "output strides differ from the reference's (e.g. a transposed, non-contiguous view)",
    "device_mismatch": "output lives on another device than the reference",
    "not_dense_tensor": "output is not a plain dense torch.Tensor (subclass, lazy or sparse value)",
    "values_mismatch": "element-wise error beyond atol + rtol * |ref|",
    "rel_norm": "relative norm error ||out - ref|| / ||ref|| beyond tolerance",
    "nan_inf": "NaN or Inf in the output where the reference has none",
    "inputs_modified": "the candidate changed its inputs",
    "output_aliases_input": "an output shares memory with an input",
    "reused_reference_output": "an output sits in memory freed by the reference result (or equals a poisoned buffer)",
    "nondeterministic": "two runs on the same inputs differ beyond rounding (stale memory or a race)",
    "extra_shape": "wrong at a perturbed (ragged) shape",
    "large_magnitude": "wrong on large-magnitude inputs (missing max-subtraction, low-precision accumulation)",
    "shifted": "wrong on inputs with a large common offset (one-pass variance, cancellation)",
}

ANTICHEAT_RULES: dict[str, str] = {
    "no_kernel_launched": "no kernel of the candidate's own ran (profiler / launch evidence)",
    "reference_ops": "the answer is computed with PyTorch compute ops instead of the candidate's kernel",
    "library_kernel": "a library kernel (cuBLAS, cuDNN, ...) stands in for the work",
    "caching": "results are cached across calls instead of recomputed",
    "timed_output": "a sampled timed call (fresh inputs, output copied at its end event) is wrong: it cheats "
                    "when timed, defers work past the call or merges calls",
    "timer_tampering": "timers or synchronisation functions were replaced",
    "harness_tampering": "the verifier, torch comparison functions or builtins were patched",
    "reference_access": "the candidate reached for the reference's objects (frames, gc, module lookup)",
    "subclass_reference": "ModelNew subclasses or instantiates the reference Model",
    "fallback_try_except": "a try/except falls back to another implementation",
    "side_stream": "work launched on side streams or left running after the call",
    "threads": "threads, processes or subprocesses started by the candidate",
    "side_effects": "network, file or process side effects outside the sandbox",
    "environment_read": "reads environment variables, so it may behave differently outside verification",
    "timing_mismatch": "event timings disagree with the wall clock",
    "impossible_speed": "faster than the speed-of-light floor of the problem",
    "forbidden_import": "imports the verifier, the problem module or another forbidden module",
}

ALL_RULES = {**CORRECTNESS_RULES, **ANTICHEAT_RULES}

# Flags that change no status: listed in `flags` after the rules, explained in the trial notes.
ADVISORY_FLAGS: dict[str, str] = {
    "specialized": "the candidate refused a perturbed (extra) shape with an explicit error",
    "gpu_memory": "the verification did not fit in the GPU's free memory (a runtime_error the GPU decided)",
}


# Policies: which rules only flag. strict: every compute op in the candidate's own kernels.
# kernelbench (KernelBench's rule): PyTorch and library ops may do parts of the work, as long as an
# own kernel launches on every call (`no_kernel_launched` stays) and every other check passes.
POLICIES: dict[str, frozenset[str]] = {
    "strict": frozenset(),
    "kernelbench": frozenset({"reference_ops", "library_kernel"}),
}
RELAXABLE = frozenset().union(*POLICIES.values())  # rules that some policy only flags


def status_for(rule: str) -> str:
    """The verdict status a rule implies."""
    if rule in CORRECTNESS_RULES:
        return "incorrect"
    if rule in ANTICHEAT_RULES:
        return "rejected"
    raise KeyError(f"unknown rule {rule!r}")
