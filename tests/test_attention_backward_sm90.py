"""The attention family's training candidate (forward storing the log-sum-exp, delta, dK/dV and dQ
kernels; render_backward.py) compiles for sm_90 for every problem of the project, in bf16 at D=128
(no GPU needed: Triton's GPUTarget compiles here, in a subprocess without the interpreter)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from kernelwright.agents.templates.attention.render_backward import BACKWARD_CONFIGS

SCRIPT = r"""
import os, re, sys
os.environ["TRITON_INTERPRET"] = "0"
sys.path.insert(0, sys.argv[1])
try:
    from triton.backends.compiler import GPUTarget  # noqa: F401 - the API compile_for_sm90 needs
    from triton.compiler import ASTSource  # noqa: F401
except ImportError as exc:
    print(f"triton lacks ASTSource / GPUTarget: {exc}", file=sys.stderr)
    sys.exit(3)
from pathlib import Path
from sm90 import compile_for_sm90, report
from attention_sm90 import GPU_PARAMS, request_for
from kernelwright.agents.templates.attention.family import AttentionFamily
from kernelwright.agents.templates.attention.render_backward import (BACKWARD_CONFIGS, DEFAULT_BACKWARD,
                                                                    kernel_tiles, render_training_source)
from kernelwright.bench.attention import import_candidate

POINTERS = {"Q", "K", "V", "Out", "DO", "DK", "DV", "DQ"}
FLOAT32 = {"Lse", "Delta"}
family = AttentionFamily()
failures = 0
for path in sorted(Path(sys.argv[2]).glob("*.py")):
    request = request_for(path.stem)
    spec = family.spec(request)
    config = family.configs(request)[0]
    # every backward config for the causal problem; the default one for the others
    for backward in (BACKWARD_CONFIGS if path.stem == "causal" else [DEFAULT_BACKWARD]):
        source = render_training_source(spec, config, path.stem, request.problem_source, backward=backward)
        module = import_candidate(source, f"kw_train_{path.stem}")
        constants = {"HEAD_DIM": 128, "FAST_TANH": True, "UPCAST_DOT": False, "LAZY": False, "PIPE_QK": False,
                     "TMA": False, "WS": False, "MASK_ALL": True, **GPU_PARAMS,
                     **{k: v for k, v in config.items() if k.isupper()}}
        if "PATCH_H" in config:
            constants["BLOCK_M"] = config["PATCH_H"] * config["PATCH_W"]
        tiles = kernel_tiles(backward)
        for kernel in ("_kw_attn_fwd", "_kw_attn_bwd_delta", "_kw_attn_bwd_dkdv", "_kw_attn_bwd_dq"):
            if kernel == "_kw_attn_fwd" and backward is not BACKWARD_CONFIGS[0] and path.stem == "causal":
                continue  # the forward does not change with the backward config
            fn = getattr(module, kernel)
            own = tiles["dkdv"] if kernel == "_kw_attn_bwd_dkdv" else tiles["dq"]
            values = constants if kernel == "_kw_attn_fwd" else {**constants, **own}
            signature, constexprs = {}, {}
            for arg in fn.arg_names:
                if arg in POINTERS:
                    signature[arg] = "*bf16"
                elif arg in FLOAT32 or re.fullmatch(r"D?T_\w+", arg) and not re.search(r"_[sn]\d+$", arg):
                    signature[arg] = "*fp32"  # also score_mod's tensors (T_<name>) and their gradients (DT_<name>)
                elif arg == "sm_scale":
                    signature[arg] = "fp32"
                elif arg in values and arg not in ("Z", "NUM_HEADS", "N_CTX"):
                    signature[arg], constexprs[arg] = "constexpr", values[arg]
                else:
                    signature[arg] = "i32"
            options = config if kernel == "_kw_attn_fwd" else {**DEFAULT_BACKWARD, **backward}
            launch = {"num_warps": options["num_warps"], "num_stages": options["num_stages"]}
            failures += not report({"problem": path.stem, "kernel": kernel, "backward": backward},
                                   lambda: compile_for_sm90(fn, signature, constexprs, {}, launch))
sys.exit(1 if failures else 0)
"""


def test_training_kernels_compile_for_sm90_for_every_attention_problem():
    here = Path(__file__).resolve().parent
    env = {**os.environ, "TRITON_INTERPRET": "0"}
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(here), str(here.parent / "problems" / "attention")],
                          capture_output=True, text=True, env=env, timeout=1200, check=False)
    if proc.returncode == 3:
        pytest.skip(f"no sm_90 compile toolchain here: {proc.stderr.strip().splitlines()[-1:]}")
    rows = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    extra = 3 * (len(BACKWARD_CONFIGS) - 1)  # the causal problem's backward kernels under the other configs
    assert len(rows) == 4 * len(list((here.parent / "problems" / "attention").glob("*.py"))) + extra, \
        proc.stderr[-3000:]
    errors = [r for r in rows if r["error"]]
    assert not errors and proc.returncode == 0, errors or proc.stderr[-3000:]
    # the backward's two matmul kernels run on the tensor cores (wgmma) for every problem
    assert all(r["wgmma"] for r in rows if r["kernel"] in ("_kw_attn_bwd_dkdv", "_kw_attn_bwd_dq")), rows
