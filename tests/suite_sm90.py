"""Compile every honest Triton candidate for sm_90 on a machine without a GPU.

Run as a script in its own process (the Triton interpreter must be off there):
    TRITON_INTERPRET=0 python tests/suite_sm90.py [candidate.py ...]
Each candidate's forward runs at the problem's full GPU size on meta tensors with launches
captured instead of executed, so the kernels compile with exactly the launch configuration the
wrapper picks on a GPU. Prints one JSON line per kernel: candidate, kernel, shared, wgmma, error.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

os.environ["TRITON_INTERPRET"] = "0"

import torch  # noqa: E402
from triton.runtime.jit import JITFunction  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from kernelwright.verifier.problem import exec_source, load_problem  # noqa: E402

from sm90 import compile_for_sm90  # noqa: E402
from suite_helpers import candidate_files, candidate_problem  # noqa: E402

DTYPES = {torch.float32: "fp32", torch.float16: "fp16", torch.bfloat16: "bf16", torch.int32: "i32",
          torch.int64: "i64"}
OPTION_KEYS = ("num_warps", "num_stages", "num_ctas")


def capture_launches(candidate: Path) -> list[tuple[JITFunction, dict, dict]]:
    """Run forward at GPU size on meta tensors; return (kernel, bound args, options) per launch."""
    problem = load_problem(candidate_problem(candidate))
    module = problem.module()
    cand = exec_source(candidate.read_text(), f"kw_sm90_{candidate.stem}", str(candidate))
    launches = []

    def fake_run(self, *args, grid, warmup, **kwargs):
        options = {k: kwargs.pop(k) for k in OPTION_KEYS if k in kwargs}
        bound = dict(zip(self.arg_names, args))
        bound.update(kwargs)
        launches.append((self, bound, options))

    original = JITFunction.run
    JITFunction.run = fake_run
    try:
        with torch.device("meta"):
            model = cand.ModelNew(*module.get_init_inputs())
            model(*module.get_inputs())
    finally:
        JITFunction.run = original
    return launches


def compile_sm90(fn: JITFunction, bound: dict, options: dict):
    signature, constexprs, attrs = {}, {}, {}
    for i, (name, param) in enumerate(zip(fn.arg_names, fn.params)):
        value = bound[name]
        if param.is_constexpr:
            signature[name], constexprs[name] = "constexpr", value
        elif isinstance(value, torch.Tensor):
            signature[name] = "*" + DTYPES[value.dtype]
            attrs[(i,)] = [["tt.divisibility", 16]]
        elif isinstance(value, bool):
            signature[name] = "i1"
        elif isinstance(value, int) and value == 1:  # as Triton's launcher specializes: 1 is a constant
            signature[name], constexprs[name] = "constexpr", 1
        elif isinstance(value, int):
            signature[name] = "i32" if -2**31 <= value < 2**31 else "i64"
            if value % 16 == 0:  # and multiples of 16 are known to be
                attrs[(i,)] = [["tt.divisibility", 16]]
        elif isinstance(value, float):
            signature[name] = "fp32"
        else:
            raise TypeError(f"{fn.__name__}: cannot type argument {name}={value!r}")
    opts = {"num_warps": options.get("num_warps", 4), "num_stages": options.get("num_stages", 3)}
    return compile_for_sm90(fn, signature, constexprs, attrs, opts)


def main(paths: list[str]) -> int:
    failures = 0
    for candidate in [Path(p) for p in paths] or candidate_files("triton"):
        try:
            launches = capture_launches(candidate)
        except Exception as exc:  # noqa: BLE001 - reported per candidate
            print(json.dumps({"candidate": candidate.name, "kernel": None, "error": f"{type(exc).__name__}: {exc}"}))
            failures += 1
            continue
        if not launches:
            print(json.dumps({"candidate": candidate.name, "kernel": None, "error": "no Triton launch captured"}))
            failures += 1
        for fn, bound, options in launches:
            row = {"candidate": candidate.name, "kernel": fn.__name__, **options}
            try:
                kernel = compile_sm90(fn, bound, options)
                row.update(shared=kernel.metadata.shared, wgmma="wgmma" in kernel.asm["ptx"], error=None)
            except Exception as exc:  # noqa: BLE001
                row["error"] = f"{type(exc).__name__}: {str(exc)[-400:]}"
                failures += 1
            print(json.dumps(row), flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
