"""Script run under Nsight Compute: load a problem and a candidate, call the candidate a few times.

Usage: python driver.py PROBLEM.py CANDIDATE.py [--calls N] [--device cuda] [--workdir DIR --cache-dir DIR]
With --workdir the driver enters the verifier's sandbox (`sandbox.apply`: network namespace,
rlimits, audit hook on files, processes and signals) after loading the trusted problem and
initialising CUDA (so that ncu's injection is attached), and before the candidate's file is read;
it prints ``KW_SANDBOX {json}`` with the layers in place. Its environment was scrubbed by the
parent (`sandbox_launch`). Warm-up (JIT compile, autotuning) runs outside the NVTX range ``kw_candidate`` so that
`ncu --nvtx --nvtx-include kw_candidate/` profiles only the candidate's own launches. At the
end it prints one line ``KW_META {json}`` with Triton/CuPy compile metadata of the kernels.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from typing import Any

RANGE = "kw_candidate"


def load(path: str, name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None, path  # a .py path always has a loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # triton.jit needs the defining module importable
    spec.loader.exec_module(module)
    return module


def _jit_functions(obj: Any) -> Any:
    """Unwrap autotuner/heuristics wrappers down to the JITFunction (which has device_caches)."""
    seen = 0
    while obj is not None and not hasattr(obj, "device_caches") and seen < 8:
        obj = getattr(obj, "fn", None)
        seen += 1
    return obj if obj is not None and hasattr(obj, "device_caches") else None


def triton_metadata(module: Any) -> list[dict[str, Any]]:
    """Registers, spills and shared memory of every compiled Triton kernel defined in `module`."""
    out = []
    for attr, value in vars(module).items():
        jit = _jit_functions(value)
        if jit is None:
            continue
        for cache in list(jit.device_caches.values()):
            kernels = cache[0] if isinstance(cache, tuple) else {}
            for compiled in list(kernels.values()):
                try:
                    if getattr(compiled, "n_regs", None) is None and hasattr(compiled, "_init_handles"):
                        compiled._init_handles()
                    meta = getattr(compiled, "metadata", None)
                    out.append({
                        "backend": "triton", "name": getattr(meta, "name", attr),
                        "registers": getattr(compiled, "n_regs", None),
                        "spills": getattr(compiled, "n_spills", None), "shared_bytes": getattr(meta, "shared", None),
                        "num_warps": getattr(meta, "num_warps", None), "num_stages": getattr(meta, "num_stages", None),
                    })
                except Exception as exc:  # noqa: BLE001 - metadata is best effort
                    out.append({"backend": "triton", "name": attr, "error": f"{type(exc).__name__}: {exc}"})
    return out


def cupy_metadata(module: Any) -> list[dict[str, Any]]:
    out = []
    for attr, value in vars(module).items():
        if type(value).__name__ == "RawKernel" and type(value).__module__.startswith("cupy"):
            try:
                info = value.attributes
                out.append({"backend": "cupy", "name": attr, "registers": info.get("num_regs"),
                            "spills": info.get("local_size_bytes"), "shared_bytes": info.get("shared_size_bytes")})
            except Exception as exc:  # noqa: BLE001
                out.append({"backend": "cupy", "name": attr, "error": f"{type(exc).__name__}: {exc}"})
    return out


def enter_sandbox(args: argparse.Namespace) -> dict[str, Any]:
    """The verifier's sandbox around what follows (the candidate); CUDA is initialised first."""
    from kernelwright.verifier.sandbox import enter as sandbox

    cuda = args.device.startswith("cuda")
    if cuda:
        import torch

        torch.cuda.init()  # ncu's injection attaches at CUDA initialisation, before the namespaces
    status = sandbox.apply(workdir=args.workdir, cache_dir=args.cache_dir, cuda=cuda,
                           isolate_network=args.isolate_network, pid_namespace=args.pid_namespace,
                           guard_home=args.guard_home)
    print("KW_SANDBOX " + json.dumps(status, default=str), flush=True)
    return status


def _allow_compilers() -> Any:
    """Compilers may run while the candidate loads and builds (load_inline, CuPy), as in the worker."""
    from contextlib import nullcontext

    if "kernelwright.verifier.sandbox.enter" not in sys.modules:
        return nullcontext()
    return sys.modules["kernelwright.verifier.sandbox.enter"].allow_compilers()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("problem")
    parser.add_argument("candidate")
    parser.add_argument("--calls", type=int, default=3)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--workdir", help="enter the sandbox with this private work dir before the candidate loads")
    parser.add_argument("--cache-dir", help="the sandbox's compiler cache dir (default: the work dir)")
    parser.add_argument("--no-isolate-network", dest="isolate_network", action="store_false")
    parser.add_argument("--no-guard-home", dest="guard_home", action="store_false")
    parser.add_argument("--pid-namespace", action="store_true", help="the parent started us in a PID namespace")
    args = parser.parse_args(argv)
    problem = load(args.problem, "kw_profile_problem")
    if args.workdir:
        enter_sandbox(args)
    import torch

    with _allow_compilers():
        candidate = load(args.candidate, "kw_profile_candidate")
        torch.manual_seed(0)
        model = candidate.ModelNew(*problem.get_init_inputs()).to(args.device)
    inputs = [x.to(args.device) if torch.is_tensor(x) else x for x in problem.get_inputs()]
    cuda = args.device.startswith("cuda")
    with torch.no_grad():
        model(*inputs)  # warm-up: compile and autotune outside the profiled range
        if cuda:
            torch.cuda.synchronize()
        for _ in range(args.calls):
            if cuda:
                torch.cuda.nvtx.range_push(RANGE)
            model(*inputs)
            if cuda:
                torch.cuda.nvtx.range_pop()
        if cuda:
            torch.cuda.synchronize()
    print("KW_META " + json.dumps(triton_metadata(candidate) + cupy_metadata(candidate)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
