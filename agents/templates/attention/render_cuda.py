"""Render the CUDA (sm_90a) backend of the attention family: kernel source and `ModelNew` candidate.

`cuda_mods(source)` translates the problem's mods into C++ (attention_translate_c.py);
`cuda_source(...)` assembles the CUDA file: the kernel for head dims 64 and 128 plus a host
launcher that encodes the q / k / v TMA descriptors; `wrapper_source(...)` the C++ file with the
PyTorch entry point (checks, output, current stream). `render_cuda_candidate(...)` wraps both in a
KernelBench candidate built with torch.utils.cpp_extension.load_inline (the verifier's cached
load_inline builds it once; the CUDA file has no PyTorch headers, so nvcc takes seconds).
"""
from __future__ import annotations

import ast
import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from kernelwright.agents.templates.attention.host_cuda import LAUNCHER, WRAPPER
from kernelwright.agents.templates.attention.kernel_cuda import BOUNDS_CAUSAL, BOUNDS_DOCUMENTS, BOUNDS_WINDOW, KERNEL
from kernelwright.agents.templates.attention.ptx import DTYPES, HELPERS, pack_source, wgmma_source
from kernelwright.agents.templates.attention.spec import AttentionSpec, spec_names
from kernelwright.agents.templates.attention.translate_c import C_HELPERS, c_kernel_params, translate_c
from kernelwright.agents.templates.attention.translate_triton import TranslateError

HEAD_DIMS = (64, 128)
BLOCK_M = 128
MAX_SMEM = 232448  # bytes of dynamic shared memory an sm_90 block may use
# KW_HANG_CHECK: an mbarrier wait that spins ~2**26 times (about a minute) traps instead of hanging.
# --use_fast_math: approximate division and transcendentals in the mods (what Triton emits as well).
NVCC_FLAGS = ["-gencode=arch=compute_90a,code=sm_90a", "-O3", "-std=c++17", "--use_fast_math", "-DKW_HANG_CHECK"]
_TMA_TYPES = {"bfloat16": ("CU_TENSOR_MAP_DATA_TYPE_BFLOAT16", "torch::kBFloat16"),
              "float16": ("CU_TENSOR_MAP_DATA_TYPE_FLOAT16", "torch::kFloat16")}


@dataclass
class CudaMods:
    """The problem's mods as C++ statement blocks for kw_score (see KERNEL)."""

    score_body: str
    mask_body: str
    raw_scores: bool                 # no score_mod: the softmax applies sm_scale * log2(e) itself
    params: list[tuple[str, str]] = field(default_factory=list)   # (C type, P_<NAME>) init arguments


def problem_dtype(source: str) -> str:
    """The problem's `DTYPE = torch.<name>` (bfloat16 when it names none)."""
    for node in ast.parse(source).body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                and node.targets[0].id == "DTYPE" and isinstance(node.value, ast.Attribute)):
            return node.value.attr
    return "bfloat16"


def cuda_mods(source: str) -> CudaMods:
    """Translate score_mod / mask_mod to C++; raises TranslateError when something has no C form."""
    tree = ast.parse(source)
    names = spec_names(tree)
    functions = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    params = [p for p in c_kernel_params(tree) if p[1].startswith("P_")]
    mask_body = ""
    if "mask_mod" in functions:
        mask = translate_c(tree, "mask_mod", names)
        mask_body = "".join(f"        {s}\n" for s in mask.statements)
        mask_body += f"        keep = keep & ({mask.result});\n"  # `&`: no short circuit, no branch
    if "score_mod" not in functions:
        return CudaMods("    float x = s;\n", mask_body, True, params)
    score = translate_c(tree, "score_mod", names)
    body = "".join(f"    {s}\n" for s in score.statements)
    if score.additive_bias is not None:  # fold log2(e) into the bias once
        body += f"    float x = s * (sm_scale * LOG2E) + ({score.additive_bias}) * LOG2E;\n"
    else:
        body += f"    float x = ({score.result}) * LOG2E;\n"
    if re.search(r"\bscore\b", body):  # the natural-log score, only where the mod reads it
        body = "    const float score = s * sm_scale;\n" + body
    return CudaMods(body, mask_body, False, params)


def cuda_supported(source: str, spec: AttentionSpec) -> bool:
    """Whether the CUDA kernel can express this problem (1-D tiling, 16-bit inputs, D 64 or 128, C mods)."""
    if spec.grid is not None or spec.head_dim not in HEAD_DIMS or problem_dtype(source) not in DTYPES:
        return False
    try:
        cuda_mods(source)
    except (TranslateError, SyntaxError):
        return False
    return True


def smem_bytes(head_dim: int, block_n: int, stages: int) -> int:
    """Dynamic shared memory of one CTA (KwLayout in the kernel source)."""
    return BLOCK_M * head_dim * 2 + 2 * stages * block_n * head_dim * 2 + 8 * (2 + 4 * stages) + 1024


def bounds_source(spec: AttentionSpec) -> str:
    """C statements narrowing [lo, hi) and the unmasked [full_lo, full_hi) of one CTA's key range."""
    text = BOUNDS_CAUSAL if spec.causal else ""
    if spec.window is not None:
        text += BOUNDS_WINDOW.replace("@@W@@", spec.window)
    if spec.documents is not None:
        text += BOUNDS_DOCUMENTS.replace("@@ND@@", spec.documents)
    return text


def cuda_source(mods: CudaMods, bounds: str, dtype: str, block_n: int, stages: int, persistent: bool = False) -> str:
    """The CUDA file: helpers, wgmma wrappers, kernel for D = 64 and 128, kw_attention_launch."""
    if dtype not in DTYPES:
        raise ValueError(f"the CUDA attention kernel supports {sorted(DTYPES)}, not {dtype}")
    for d in HEAD_DIMS:
        if smem_bytes(d, block_n, stages) > MAX_SMEM:
            raise ValueError(f"BLOCK_N={block_n}, STAGES={stages} needs {smem_bytes(d, block_n, stages)} bytes of "
                             f"shared memory at D={d}; the limit is {MAX_SMEM}")
    text = (KERNEL.replace("@@STAGES@@", str(stages)).replace("@@CTYPE@@", DTYPES[dtype][1])
            .replace("@@BOUNDS@@", bounds).replace("@@SCORE_BODY@@", mods.score_body)
            .replace("@@MASK_BODY@@", mods.mask_body)
            .replace("@@SOFTMAX_SCALE@@", "sm_scale * LOG2E" if mods.raw_scores else "1.0f")
            + LAUNCHER.replace("@@TMA_TYPE@@", _TMA_TYPES[dtype][0]).replace("@@PERSISTENT@@", str(persistent).lower()))
    text = _fill_params(text.replace("@@BN@@", str(block_n)), mods)
    widths = sorted({block_n, *HEAD_DIMS})
    return ("#include <cudaTypedefs.h>\n" + HELPERS + C_HELPERS + pack_source(dtype)
            + "".join(wgmma_source(n, dtype) for n in widths) + text)


def wrapper_source(mods: CudaMods, dtype: str) -> str:
    """The C++ file: argument checks, output allocation, the call into kw_attention_launch."""
    text = WRAPPER.replace("@@SCALAR@@", _TMA_TYPES[dtype][1]).replace("@@DTYPE@@", dtype)
    return _fill_params(text, mods)


def _fill_params(text: str, mods: CudaMods) -> str:
    """Init arguments: C types in the kernel, int64_t / double in the PyTorch entry point."""
    host = {"int": "int64_t", "float": "double"}
    return (text.replace("@@PARAM_DECLS@@", "".join(f", {t} {n}" for t, n in mods.params))
            .replace("@@PARAM_NAMES@@", "".join(f", {n}" for _, n in mods.params))
            .replace("@@HOST_DECLS@@", "".join(f", {host[t]} {n}" for t, n in mods.params))
            .replace("@@HOST_NAMES@@", "".join(f", ({t}){n}" for t, n in mods.params)))


CANDIDATE = '''"""kernelwright attention forward for `{name}` (template family "attention", CUDA backend; rendered).

A FlashAttention-3-style sm_90a kernel built with load_inline: a TMA producer warpgroup and two
consumer warpgroups that take turns on the tensor cores (wgmma), online softmax in exp2 form,
score_mod / mask_mod translated to C++. Needs an sm_90 GPU (H100 / H200) and nvcc. Config: {config}.
"""
import torch
import torch.nn as nn
from torch.utils.cpp_extension import load_inline

INIT_ARGS = {init_args}
_CPP = r\'\'\'{wrapper}\'\'\'
_CUDA = r\'\'\'{source}\'\'\'

_ext = load_inline(name="kw_attention_{tag}", cpp_sources=_CPP, cuda_sources=_CUDA, functions=["attention_forward"],
                   extra_cuda_cflags={flags}, no_implicit_headers=True, verbose=False)


class ModelNew(nn.Module):
    """Same constructor and forward as the reference Model: forward(q, k, v) with (B, H, S, D) inputs."""

    def __init__(self, *init_args):
        super().__init__()
        if len(init_args) != len(INIT_ARGS):
            raise ValueError(f"ModelNew takes {{len(INIT_ARGS)}} init arguments ({{INIT_ARGS}}), got {{len(init_args)}}")
        self.params = list(init_args)

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return _ext.attention_forward(q, k, v, *self.params)
'''  # noqa: E501 - generated candidate source, emitted as written


def render_cuda_candidate(source: str, spec: AttentionSpec, config: dict[str, Any], name: str) -> str:
    """Complete candidate source for one CUDA config {"BACKEND": "cuda", "BLOCK_N": n, "STAGES": s,
    "PERSISTENT": bool (one CTA per multiprocessor walking the tiles; default False)}."""
    mods = cuda_mods(source)
    dtype = problem_dtype(source)
    block_n, stages = int(config.get("BLOCK_N", 128)), int(config.get("STAGES", 2))
    text = cuda_source(mods, bounds_source(spec), dtype, block_n, stages, bool(config.get("PERSISTENT", False)))
    wrapper = wrapper_source(mods, dtype)
    if "\'\'\'" in text + wrapper:
        raise ValueError("the rendered C++ contains a triple quote; it cannot be embedded in the candidate")
    tag = hashlib.sha256((text + wrapper).encode()).hexdigest()[:12]  # one extension name per source
    return CANDIDATE.format(name=name, config=config, init_args=spec.init_args, wrapper=wrapper,
                            source=text, tag=tag, flags=NVCC_FLAGS)
