"""Compile rendered attention kernels for sm_90 on any machine (no GPU needed) and report resources.

Used by the CI compile test and for tuning without the device: registers, stack (spills), shared
memory and whether wgmma was emitted, per variant and config.
    python tests/attention_sm90.py plain causal --all-configs

Run it in a process that never imported triton in interpreter mode (TRITON_INTERPRET unset or 0):
interpreter mode patches triton.language globally. tests/test_attention_sm90.py starts it as a
subprocess with --json. The compile itself is tests/sm90.py's.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import triton
from kernelwright.agents.coder import CodeRequest
from kernelwright.agents.templates.attention.family import AttentionFamily
from kernelwright.verifier.problem import load_problem

from kernelwright.bench.attention import import_candidate
from sm90 import API_MISSING, compile_for_sm90

PROBLEMS = Path(__file__).resolve().parent.parent / "problems" / "attention"
GPU_PARAMS = {"P_WINDOW": 256, "P_GRID_H": 64, "P_GRID_W": 64, "P_KERNEL": 13}


def request_for(variant: str) -> CodeRequest:
    problem = load_problem(PROBLEMS / f"{variant}.py")
    return CodeRequest(problem_source=problem.source, problem_name=problem.name, description=problem.description,
                       metadata=problem.metadata, strategy="first_draft")


@contextlib.contextmanager
def real_triton() -> Iterator[None]:
    """TRITON_INTERPRET=0 for the duration (jit decoration and code generation both read it)."""
    saved = os.environ.get("TRITON_INTERPRET")
    os.environ["TRITON_INTERPRET"] = "0"
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("TRITON_INTERPRET", None)
        else:
            os.environ["TRITON_INTERPRET"] = saved


def compile_sm90(source: str, config: dict[str, Any], head_dim: int = 128, dtype: str = "bf16",
                 name: str = "kw_attn", mask_all: bool = True) -> Any:
    """triton.compile the rendered `_kw_attn_fwd` for GPUTarget('cuda', 90, 64); returns the kernel.

    `mask_all` is the 1-D kernel's MASK_ALL (False = an unmasked problem at a length that BLOCK_N divides)."""
    try:
        from triton.backends.compiler import GPUTarget  # noqa: F401 - the API compile_for_sm90 needs
        from triton.compiler import ASTSource  # noqa: F401
    except ImportError as exc:  # this triton lays its compiler API out differently
        print(f"triton compiler API not found: {exc}", file=sys.stderr)
        sys.exit(API_MISSING)

    with real_triton():
        fn = import_candidate(source, name)._kw_attn_fwd  # a real file (triton.jit reads it), real JITFunctions
    constants: dict[str, Any] = {"HEAD_DIM": head_dim, "FAST_TANH": True, "UPCAST_DOT": False, "LAZY": False,
                                 "PIPE_QK": False, "TMA": False, "WS": False, "MASK_ALL": mask_all, **GPU_PARAMS}
    constants.update({k: v for k, v in config.items() if k.isupper()})
    if "PATCH_H" in config:
        constants["BLOCK_M"] = config["PATCH_H"] * config["PATCH_W"]
    signature, constexprs, attrs = {}, {}, {}
    for i, arg in enumerate(fn.arg_names):
        if arg in constants or arg.isupper() and arg not in ("Q", "K", "V", "Z", "NUM_HEADS", "N_CTX"):
            if arg not in constants:
                raise KeyError(f"constexpr {arg} of the rendered kernel has no value here; add it to compile_sm90")
            signature[arg], constexprs[arg] = "constexpr", constants[arg]
        elif arg in ("Q", "K", "V", "Out"):
            signature[arg] = f"*{dtype}"
            attrs[(i,)] = [["tt.divisibility", 16]]
        elif arg == "sm_scale":
            signature[arg] = "fp32"
        else:
            signature[arg] = "i32"
            if arg.startswith("stride_"):
                attrs[(i,)] = [["tt.divisibility", 16]]
    options = {"num_warps": config["num_warps"], "num_stages": config["num_stages"]}
    with real_triton():
        return compile_for_sm90(fn, signature, constexprs, attrs, options)


def resources(kernel: Any) -> dict[str, Any]:
    """Registers, stack bytes and shared memory read off the cubin with cuobjdump; wgmma from the PTX."""
    ptx = kernel.asm["ptx"]
    # tma: K/V tiles arrive by cp.async.bulk.tensor; warps: the launch's warps after Triton's passes
    # (warp specialisation adds producer / consumer warps); setmaxnreg: FA3-style register split
    out: dict[str, Any] = {"shared": kernel.metadata.shared, "wgmma": "wgmma" in ptx,
                           "tma": "cp.async.bulk.tensor" in ptx, "warps": getattr(kernel.metadata, "num_warps", None),
                           "setmaxnreg": "setmaxnreg" in ptx}
    # instruction counts in the PTX (whole kernel, all loop copies): MUFU exp2, FP32 FMA, shared-memory and
    # local (spill) traffic; POLY_EXP moves exp2 work to fma and must not add shared / local accesses
    for key, pattern in (("ex2", r"\bex2\.approx"), ("fma", r"\bfma\.rn\.f32"), ("st_shared", r"\bst\.shared"),
                         ("ld_shared", r"\bld\.shared"), ("local", r"\b(?:ld|st)\.local")):
        out[key] = len(re.findall(pattern, ptx))
    # operand types of the wgmma instructions (bf16 / f16 inputs, f32 accumulators)
    out["ptx_mma_types"] = sorted(set(re.findall(r"wgmma\.mma_async\.sync\.aligned\.m\d+n\d+k\d+\.f32\.(\w+)\.\w+",
                                                 ptx)))
    tool = Path(triton.__file__).parent / "backends" / "nvidia" / "bin" / "cuobjdump"
    with tempfile.NamedTemporaryFile(suffix=".cubin") as f:
        f.write(kernel.asm["cubin"])
        f.flush()
        text = subprocess.run([str(tool), "-res-usage", f.name], capture_output=True, text=True).stdout
    for key in ("REG", "STACK"):
        found = re.search(rf"{key}:(\d+)", text)
        out[key.lower()] = int(found.group(1)) if found else None
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variants", nargs="*", default=["plain", "neighborhood_2d"])
    parser.add_argument("--all-configs", action="store_true")
    parser.add_argument("--head-dim", type=int, default=128)
    parser.add_argument("--dtype", choices=["bf16", "fp16"], default="bf16", help="element type of q, k, v, out")
    parser.add_argument("--config-index", type=int, default=None, help="compile only this entry of configs()")
    parser.add_argument("--config", default=None, help="compile this JSON config instead of configs() entries")
    parser.add_argument("--json", action="store_true", help="one JSON line per kernel")
    args = parser.parse_args()
    family = AttentionFamily()
    for variant in args.variants:
        request = request_for(variant)
        configs = family.configs(request, head_dim=args.head_dim)
        if args.config is not None:
            configs = [json.loads(args.config)]
        elif args.config_index is not None:
            configs = [configs[args.config_index]]
        elif not args.all_configs:
            configs = configs[:1]
        for i, config in enumerate(configs):
            kernel = compile_sm90(family.render(request, config), config, args.head_dim, args.dtype,
                                  name=f"kw_{variant}_{i}", mask_all=family.spec(request).mask is not None)
            res = resources(kernel)
            print(json.dumps({"variant": variant, "config": config, **res})
                  if args.json else f"{variant} {config} {res}",
                  flush=True)


if __name__ == "__main__":
    main()
