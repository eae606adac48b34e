"""The `inductor` template family (issue 18, point 3): Inductor's Triton, generated on this CPU
through a code-generation-only Triton driver, exported as a self-contained candidate and verified
under the Triton interpreter; GEMMs that Inductor leaves to cuBLAS get a one-line reason."""
from __future__ import annotations

import ast

import pytest
from kernelwright.agents.coder import CodeRequest
from kernelwright.agents.template_coder import TemplateCoder
from kernelwright.agents.templates.inductor.export import Unsupported, export, plain_kernel
from kernelwright.agents.templates.inductor.family import InductorFamily
from kernelwright.verifier.problem import load_problem

import kernelwright

NORM_GELU = '''
import torch
import torch.nn as nn

class Model(nn.Module):
    """Layer norm over the last dim, then GELU and a scaled residual."""
    def __init__(self, features):
        super().__init__()
        self.norm = nn.LayerNorm(features)

    def forward(self, x):
        return torch.nn.functional.gelu(self.norm(x)) * 0.5 + x

batch = 24
features = 96

def get_inputs():
    return [torch.randn(batch, features)]

def get_init_inputs():
    return [features]
'''

GEMM = '''
import torch
import torch.nn as nn

class Model(nn.Module):
    def __init__(self, n, k):
        super().__init__()
        self.linear = nn.Linear(k, n)

    def forward(self, x):
        return torch.relu(self.linear(x))

M, K, N = 32, 48, 40

def get_inputs():
    return [torch.randn(M, K)]

def get_init_inputs():
    return [N, K]
'''


def _request(source: str, strategy: str = "first_draft", tried: list | None = None) -> CodeRequest:
    problem = load_problem(source)
    return CodeRequest(problem_source=problem.source, problem_name=problem.name, description="",
                       metadata=problem.metadata, strategy=strategy, device="cpu", tried=tried or [])


def test_inductor_candidate_verifies_correct_and_refuses_other_shapes():
    family = InductorFamily()
    request = _request(NORM_GELU)
    assert family.matches(request)
    source = family.render(request, family.configs(request)[0])
    tree = ast.walk(ast.parse(source))
    imports = {n.module if isinstance(n, ast.ImportFrom) else a.name for n in tree
               if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names}
    assert {m.split(".")[0] for m in imports} <= {"torch", "triton", "math"}, imports
    assert "async_compile" not in source and "triton_heuristics" not in source and "@triton.jit" in source
    verdict = kernelwright.verify(NORM_GELU, source, device="cpu", timing=False)
    assert verdict.status == "correct", verdict.summary()
    extra = [t for t in verdict.trials if t.kind == "extra_shape"]
    assert extra and all(t.note.startswith("specialized") for t in extra)  # compiled for one shape: says so


def test_a_gemm_left_to_cublas_is_refused_with_a_reason():
    why = InductorFamily().explain(_request(GEMM))
    assert why is not None and "extern_kernels" in why and "strict policy" in why and "\n" not in why


def test_switch_backend_moves_from_the_lowered_family_to_inductor():
    tried = [{"template": "lowered", "config": {"pw_block": 1024}}]
    result = TemplateCoder().generate(_request(NORM_GELU, "switch_backend", tried))
    assert result.meta["template"] == "inductor", result.error
    first = TemplateCoder().generate(_request(NORM_GELU))
    assert first.meta["template"] == "lowered"  # a first draft still comes from the best-matching family


# The shape of Inductor's output module, reduced to what export.py reads: a 2-D tiled kernel and a
# template kernel with a fixed grid, launched from Runner.call with streams, asserts and views.
OUTPUT = """
from torch._inductor.async_compile import AsyncCompile
async_compile = AsyncCompile()
k_tile = async_compile.triton('k_tile', '''
import triton
import triton.language as tl
from torch._inductor.runtime import triton_helpers, triton_heuristics

@triton_heuristics.pointwise(
    size_hints={'y': 64, 'x': 64},
    filename=__file__,
)
@triton.jit
def k_tile(in_ptr0, out_ptr0, ynumel, xnumel, YBLOCK : tl.constexpr, XBLOCK : tl.constexpr):
    pass
''', device_str='cuda')
k_fixed = async_compile.triton('k_fixed', '''
import triton
@triton.jit
def k_fixed(in_ptr0, out_ptr0):
    pass
''', device_str='cuda')

class Runner:
    def call(self, args):
        arg0_1, arg1_1, arg2_1 = args
        args.clear()
        assert_size_stride(arg0_1, (48, 40), (40, 1), 'input')
        with torch.cuda._DeviceGuard(0):
            torch.cuda.set_device(0)
            buf0 = empty_strided_cuda((40, 48), (48, 1), torch.float32)
            stream0 = get_raw_stream(0)
            k_tile.run(arg0_1, buf0, 40, 48, stream=stream0)
            del arg0_1
            buf1 = empty_strided_cuda((40, 48), (48, 1), torch.float32)
            k_fixed.run(buf0, buf1, 3, 2, 1, stream=stream0)
        return (reinterpret_tensor(buf1, (48, 40), (1, 48), 0), )
"""
LAUNCHES = {
    "k_tile": {"chosen": {"kwargs": {"YBLOCK": 16, "XBLOCK": 32}, "num_warps": 4, "num_stages": 1}, "configs": [],
               "grid_type": "Grid2D", "extra_args": [], "signature": ["in_ptr0", "out_ptr0", "ynumel", "xnumel"]},
    "k_fixed": {"chosen": {"kwargs": {}, "num_warps": 8, "num_stages": 3}, "configs": [],
                "grid_type": "FixedGrid", "extra_args": ["_grid_0", "_grid_1", "_grid_2"],
                "signature": ["in_ptr0", "out_ptr0"]},
}
PROBLEM = GEMM.replace("return torch.relu(self.linear(x))", "return x.t()")


def _generated(**changes) -> dict:
    return {"code": OUTPUT, "launches": LAUNCHES, "state_names": ["linear.weight", "linear.bias"], "n_params": 2,
            "tensor_positions": [0], "shapes": [[40, 48], [40], [32, 48]], "single_output": True, **changes}


def test_export_rewrites_launches_allocations_and_views():
    source = export(PROBLEM, _generated())
    assert "k_tile[triton.cdiv(48, 32), triton.cdiv(40, 16)](arg0_1, buf0, 40, 48, YBLOCK=16, XBLOCK=32, " \
           "num_warps=4, num_stages=1)" in source
    assert "k_fixed[3, 2, 1](buf0, buf1, num_warps=8, num_stages=3)" in source
    assert "_kw_empty((40, 48), (48, 1), torch.float32, kw_device)" in source
    assert "return ((_kw_view(buf1, (48, 40), (1, 48), 0),))[0]" in source
    for gone in ("triton_heuristics", "get_raw_stream", "assert_size_stride", "DeviceGuard", "set_device", "del "):
        assert gone not in source, gone
    assert "self.get_parameter('linear.weight'), self.get_parameter('linear.bias'), x]" in source
    ast.parse(source)


def test_export_refuses_library_calls_and_unknown_grids():
    with pytest.raises(Unsupported, match="extern_kernels.mm"):
        export(PROBLEM, _generated(code=OUTPUT.replace("k_fixed.run(buf0, buf1, 3, 2, 1, stream=stream0)",
                                                        "extern_kernels.mm(buf0, buf0, out=buf1)")))
    odd = {**LAUNCHES, "k_tile": {**LAUNCHES["k_tile"], "grid_type": "SplitScanGrid"}}
    with pytest.raises(Unsupported, match="SplitScanGrid"):
        export(PROBLEM, _generated(launches=odd))


SCAN_KERNEL = """
import triton
from torch._inductor.runtime import triton_heuristics

@triton.jit
def _triton_helper_fn_add0(arg0_0, arg1_0):
    return arg0_0 + arg1_0

@triton_heuristics.persistent_reduction(
    size_hints={'x': 64, 'r0_': 256},
    filename=__file__,
)
@triton.jit
def triton_per_fused_cumsum_0(in_ptr0, out_ptr0, XBLOCK : tl.constexpr):
    tmp3, = tl.associative_scan((tmp2,), 1, _triton_helper_fn_add0)
"""


def test_a_scan_kernel_keeps_its_combine_helper_renamed_after_the_kernel():
    """Scan kernels define their combine function before the kernel (KernelBench 89-93 failed to compile
    when the export kept the kernel's heuristics decorator and renamed the helper instead)."""
    text = plain_kernel(SCAN_KERNEL, "k_scan")
    assert "triton_heuristics" not in text and text.count("@triton.jit") == 2
    assert "def k_scan_triton_helper_fn_add0(arg0_0, arg1_0):" in text
    assert "def k_scan(in_ptr0, out_ptr0, XBLOCK : tl.constexpr):" in text
    assert "tl.associative_scan((tmp2,), 1, k_scan_triton_helper_fn_add0)" in text
    ast.parse(text)
