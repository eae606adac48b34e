"""Every dense-op kernel of the `lowered` family (agents/templates/lowered/dense_*.py) compiles for
sm_90 with the launch configurations its wrapper picks at GPU sizes (no GPU needed: Triton's
GPUTarget compiles here)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SM90_SCRIPT = r"""
import os, sys
os.environ["TRITON_INTERPRET"] = "0"
import torch
try:
    from triton.backends.compiler import GPUTarget  # noqa: F401 - the API compile_sm90 needs
    from triton.compiler import ASTSource  # noqa: F401
except ImportError as exc:
    print(f"triton lacks ASTSource / GPUTarget: {exc}", file=sys.stderr)
    sys.exit(3)
from triton.runtime.jit import JITFunction
sys.path.insert(0, sys.argv[1])
from sm90 import report
from suite_sm90 import OPTION_KEYS, compile_sm90
from kernelwright.agents.templates.lowered import dense_conv as C, dense_loss as L, dense_matmul as M, dense_pool as P

f32, f16, bf16 = torch.float32, torch.float16, torch.bfloat16
def t(*shape, dtype=f32):
    return torch.empty(*shape, device="meta", dtype=dtype)
def flagged(flags, call):  # call() with one of PyTorch's TF32 flags (module, attribute, value) set, then restored
    def run():
        module, name, value = flags
        old = getattr(module, name)
        setattr(module, name, value)
        try:
            call()
        finally:
            setattr(module, name, old)
    return run
CUDNN_OFF = (torch.backends.cudnn, "allow_tf32", False)
CUBLAS_TF32 = (torch.backends.cuda.matmul, "allow_tf32", True)
CASES = {
    "mm_fp32": lambda: M.kw_mm(t(4096, 1024), t(1024, 2048)),
    "mm_fp32_tf32x3": lambda: M.kw_mm(t(4096, 1024), t(1024, 2048), fp32_dot="tf32x3"),
    "mm_fp32_tf32": flagged(CUBLAS_TF32, lambda: M.kw_mm(t(4096, 1024), t(1024, 2048), fp32_dot="tf32")),
    "mm_fp32_tf32_cublas_off": lambda: M.kw_mm(t(4096, 1024), t(1024, 2048), fp32_dot="tf32"),
    "addmm_fp32_tf32x3": lambda: M.kw_addmm(t(2048), t(128, 4096), t(2048, 4096).t(), fp32_dot="tf32x3"),
    "mm_bf16": lambda: M.kw_mm(t(4096, 1024, dtype=bf16), t(1024, 2048, dtype=bf16)),
    "mm_split_k_fp16": lambda: M.kw_mm(t(256, 16384, dtype=f16), t(16384, 256, dtype=f16)),
    "addmm_fp32": lambda: M.kw_addmm(t(2048), t(128, 4096), t(2048, 4096).t(), beta=0.5),
    "baddbmm_fp16": lambda: M.kw_baddbmm(t(64, 1, 256, dtype=f16), t(64, 128, 512, dtype=f16),
                                         t(64, 512, 256, dtype=f16)),
    "conv2d_fp32": lambda: C.kw_convolution(t(16, 64, 56, 56), t(128, 64, 3, 3),
                                            t(128), [1, 1], [1, 1], [1, 1], False, [0, 0], 1),
    "conv2d_fp32_tf32x3": lambda: C.kw_convolution(t(16, 64, 56, 56), t(128, 64, 3, 3), t(128), [1, 1], [1, 1],
                                                   [1, 1], False, [0, 0], 1, fp32_dot="tf32x3"),
    "conv2d_3ch_fp32_tf32x3": lambda: C.kw_convolution(t(16, 3, 224, 224), t(64, 3, 7, 7), t(64), [2, 2], [3, 3],
                                                       [1, 1], False, [0, 0], 1, fp32_dot="tf32x3"),  # flat form
    "conv2d_fp32_tf32": lambda: C.kw_convolution(t(16, 64, 56, 56), t(128, 64, 3, 3),
                                                 t(128), [1, 1], [1, 1], [1, 1], False, [0, 0], 1, fp32_dot="tf32"),
    "conv2d_fp32_tf32_cudnn_off": flagged(CUDNN_OFF, lambda: C.kw_convolution(
        t(16, 64, 56, 56), t(128, 64, 3, 3), t(128), [1, 1], [1, 1], [1, 1], False, [0, 0], 1, fp32_dot="tf32")),
    "conv_t3d_fp32_tf32x3": lambda: C.kw_convolution(t(4, 32, 8, 16, 16), t(32, 16, 3, 3, 3), t(16), [2, 2, 2],
                                                     [1, 1, 1], [1, 1, 1], True, [1, 1, 1], 1, fp32_dot="tf32x3"),
    "conv2d_fp16": lambda: C.kw_convolution(t(16, 64, 56, 56, dtype=f16), t(128, 64, 3, 3, dtype=f16),
                                            None, [2, 2], [1, 1], [1, 1], False, [0, 0], 1),
    "depthwise_fp32": lambda: C.kw_convolution(t(16, 64, 56, 56), t(64, 1, 3, 3),
                                               None, [1, 1], [1, 1], [1, 1], False, [0, 0], 64),
    "conv_t3d_fp32": lambda: C.kw_convolution(t(4, 32, 8, 16, 16), t(32, 16, 3, 3, 3),
                                              t(16), [2, 2, 2], [1, 1, 1], [1, 1, 1], True, [1, 1, 1], 1),
    "conv1d_bf16": lambda: C.kw_convolution(t(16, 32, 4096, dtype=bf16), t(64, 32, 5, dtype=bf16),
                                            None, [1], [2], [1], False, [0], 1),
    "max_pool2d_fp32": lambda: P.kw_max_pool2d_with_indices(t(16, 64, 112, 112), [3, 3], [2, 2], [1, 1]),
    "avg_pool3d_fp32": lambda: P.kw_avg_pool3d(t(4, 16, 32, 32, 32), [3, 3, 3], [2, 2, 2], [1, 1, 1], False, False),
    "adaptive_avg_pool2d_fp16": lambda: P.kw__adaptive_avg_pool2d(t(16, 64, 30, 30, dtype=f16), [7, 7]),
    "adaptive_max_pool3d_fp32": lambda: P.kw_adaptive_max_pool3d(t(4, 16, 9, 9, 9), [2, 2, 2]),
    "gather_fp32": lambda: L.kw_gather(t(4096, 1000), 1, torch.empty(4096, 1, device="meta", dtype=torch.int64)),
    "cdist_p2_fp32": lambda: L.kw__cdist_forward(t(4, 512, 64), t(4, 256, 64), 2.0, None),
    "cdist_p3_fp32": lambda: L.kw__cdist_forward(t(4, 512, 64), t(4, 256, 64), 3.0, None),
}
launches = []
def fake_run(self, *args, grid, warmup, **kwargs):
    options = {k: kwargs.pop(k) for k in OPTION_KEYS if k in kwargs}
    bound = dict(zip(self.arg_names, args))
    bound.update(kwargs)
    launches.append((case, self, bound, options))
JITFunction.run = fake_run
for case, fn in CASES.items():
    fn()
failures = 0
for case, fn, bound, options in launches:
    failures += not report({"case": case, "kernel": fn.__name__, **options}, lambda: compile_sm90(fn, bound, options))
sys.exit(1 if failures else 0)
"""


def test_dense_kernels_compile_for_sm90_with_their_gpu_launch_configs():
    """Each wrapper runs at a GPU size on meta tensors with launches captured, and every kernel
    compiles for an H100 with exactly those arguments (in a subprocess: the interpreter is off there).
    Reuses tests/suite_sm90.py's compile_sm90."""
    env = {**os.environ, "TRITON_INTERPRET": "0", "TRITON_DEFAULT_FP_FUSION": "1"}
    proc = subprocess.run([sys.executable, "-c", SM90_SCRIPT, str(Path(__file__).resolve().parent)],
                          capture_output=True, text=True, env=env, timeout=900, check=False)
    if proc.returncode == 3:
        pytest.skip(f"no sm_90 compile toolchain here: {proc.stderr.strip().splitlines()[-1:]}")
    rows = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert rows, proc.stderr[-3000:]
    errors = [r for r in rows if r["error"]]
    assert not errors and proc.returncode == 0, errors or proc.stderr[-3000:]
    kernels = {r["kernel"] for r in rows}
    assert {"_kw_mm_kernel", "_kw_mm_reduce_kernel", "_kw_conv_kernel", "_kw_pool_kernel", "_kw_gather_kernel",
            "_kw_cdist_kernel"} <= kernels
    tensor_core = {r["case"] for r in rows if r["wgmma"]}
    assert {"mm_bf16", "mm_split_k_fp16", "baddbmm_fp16", "conv2d_fp16", "conv1d_bf16"} <= tensor_core, tensor_core
    # float32 takes tensor cores only when asked: tf32x3 always, plain tf32 where PyTorch's flag lets eager do
    # the same (cuDNN's is on by default, cuBLAS's off)
    assert {"conv2d_fp32_tf32x3", "conv2d_3ch_fp32_tf32x3", "conv_t3d_fp32_tf32x3", "mm_fp32_tf32x3",
            "addmm_fp32_tf32x3", "conv2d_fp32_tf32", "mm_fp32_tf32"} <= tensor_core, tensor_core
    assert not {"conv2d_fp32", "conv2d_fp32_tf32_cudnn_off", "mm_fp32", "mm_fp32_tf32_cublas_off",
                "addmm_fp32"} & tensor_core, tensor_core
