"""Render a complete KernelBench `ModelNew` candidate file from an `AttentionSpec` and a config."""
from __future__ import annotations

import textwrap
from typing import Any

from kernelwright.agents.templates.attention import kernel_triton as K
from kernelwright.agents.templates.attention.poly_exp2 import POLY_HELPER, exp2_parts
from kernelwright.agents.templates.attention.spec import AttentionSpec
from kernelwright.agents.templates.attention.translate_triton import LOG2E

HEADER = '''"""kernelwright attention forward for `{name}` (template family "attention", rendered, not hand-written).

Flash-attention forward in Triton: online softmax in exp2 form, score_mod / mask_mod inlined,
{tiling}. Config: {config}.
"""
import math
import os

import torch
import torch.nn as nn
import triton
import triton.language as tl

INIT_ARGS = {init_args}
_INTERPRET = os.environ.get("TRITON_INTERPRET", "0") == "1"
# the CPU interpreter's tl.dot mishandles bf16 operands: there, dots run on float32 copies
# (p is still rounded to the input dtype first, as on the GPU); tanh.approx needs a GPU
_UPCAST_DOT = _INTERPRET
_FAST_TANH = not _INTERPRET
'''

MODEL_HEAD = '''

class ModelNew(nn.Module):
    """Same constructor and forward as the reference Model: forward(q, k, v) with (B, H, S, D) inputs."""

    def __init__(self, *init_args):
        super().__init__()
        if len(init_args) != len(INIT_ARGS):
            raise ValueError(f"ModelNew takes {{len(INIT_ARGS)}} init arguments ({{INIT_ARGS}}), got {{len(init_args)}}")
        self.params = {{f"P_{{name}}": value for name, value in zip(INIT_ARGS, init_args)}}{model_init}

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        if q.dim() != 4 or k.shape != q.shape or v.shape != q.shape:
            raise ValueError(f"q, k, v must share one (B, H, S, D) shape; got {{tuple(q.shape)}}, {{tuple(k.shape)}}, {{tuple(v.shape)}}")
'''  # noqa: E501 - generated candidate source, emitted as written

WRAPPER = MODEL_HEAD + '''        q, k, v = q.contiguous(), k.contiguous(), v.contiguous()
        batch, heads, seq, head_dim = q.shape
        out = torch.empty_like(q)
{grid}{setup}
        _kw_attn_fwd[grid](
            q, k, v, out, 1.0 / math.sqrt(head_dim),
            q.stride(0), q.stride(1), q.stride(2), k.stride(0), k.stride(1), k.stride(2),
            v.stride(0), v.stride(1), v.stride(2), out.stride(0), out.stride(1), out.stride(2),
            batch, heads, seq, **self.params,{tensor_pass} HEAD_DIM=head_dim, {launch}
            FAST_TANH=_FAST_TANH, UPCAST_DOT=_UPCAST_DOT, LAZY={lazy}, PIPE_QK={pipe_qk},{tma}
            num_warps={num_warps}, num_stages={num_stages},
        )
        return out
'''  # noqa: E501 - generated candidate source, emitted as written

GRID_1D = "        grid = (triton.cdiv(seq, {block_m}), batch * heads)"
# device-side TMA descriptors (tl.make_tensor_descriptor) live in a global scratch buffer per launch
TMA_SETUP = """
        triton.set_allocator(lambda size, alignment, stream: torch.empty(size, dtype=torch.int8, device=q.device))"""
GRID_2D = '''        grid_h, grid_w = {grid_h}, {grid_w}
        if grid_h * grid_w != seq:
            raise ValueError(f"sequence length {{seq}} is not the {{grid_h}}x{{grid_w}} grid of this problem")
        grid = (triton.cdiv(grid_h, {patch_h}) * triton.cdiv(grid_w, {patch_w}), batch * heads)'''


def score_block(spec: AttentionSpec, indent: str = "        ") -> str:
    """Statements that turn raw q.k^T (`qk`) into scores in log2 units, score_mod applied."""
    if spec.score is None:
        return ""  # the scale is applied inside max / exp2 as one multiply-add (see `scale_text`)
    elif spec.score.additive_bias is not None:
        # additive bias: scale and log2(e) fold into one multiply-add per element
        lines = spec.score.statements + [f"qk = qk * qk_scale + ({spec.score.additive_bias}) * {LOG2E}"]
    else:
        lines = ["score = qk * sm_scale", *spec.score.statements, f"qk = ({spec.score.result}) * {LOG2E}"]
    return "\n".join(indent + line for line in lines)


def scale_text(spec: AttentionSpec) -> str:
    """Without score_mod the raw qk is scaled where it is used: exp2(qk * qk_scale - m) is one FMA."""
    return " * qk_scale" if spec.score is None else ""


def mask_block(spec: AttentionSpec, always: bool) -> str:
    """The element-wise mask: key in range and mask_mod true (only in boundary tiles for 1-D)."""
    mask = "kv_ok"
    stmts: list[str] = []
    if spec.mask is not None:
        stmts = spec.mask.statements
        mask = f"kv_ok & ({spec.mask.result})"
    body = stmts + [f'qk = tl.where({mask}, qk, float("-inf"))']
    if always:
        return "\n".join("        " + s for s in body)
    return "        if MASKED:\n" + "\n".join("            " + s for s in body)


def _param_text(spec: AttentionSpec) -> tuple[str, str]:
    tensors = "".join(f"{name}, " for name in tensor_arg_names(spec))
    args = "".join(f"P_{n}: tl.constexpr, " for n in spec.init_args) + tensors
    passes = "".join(f"P_{n}, " for n in spec.init_args) + tensors
    return args, passes


def tensor_arg_names(spec: AttentionSpec) -> list[str]:
    """Kernel arguments of score_mod's tensors: T_<name>, then T_<name>_s<k> / T_<name>_n<k> per dimension."""
    return [part for name, dims in spec.tensors.items()
            for part in [f"T_{name}"] + [f"T_{name}_{x}{k}" for k in range(dims) for x in "sn"]]


TENSOR_HELPERS = """
TENSOR_PARAMS = {names}


def _kw_tensor_args(model):
    # score_mod's tensors as kernel arguments: T_<name>, T_<name>_s<k> strides, T_<name>_n<k> sizes
    args = {{}}
    for name in TENSOR_PARAMS:
        tensor = getattr(model, name)
        args[f"T_{{name}}"] = tensor
        for k in range(tensor.dim()):
            args[f"T_{{name}}_s{{k}}"], args[f"T_{{name}}_n{{k}}"] = tensor.stride(k), tensor.shape[k]
    return args


# the reference Model's constructor: ModelNew takes its tensors, so they have the same names and shapes
{model_init}
"""


MODEL_TENSORS = """
        made = _KwTensors(*init_args)
        for name in TENSOR_PARAMS:  # registered as ModelNew's own parameters / attributes, same names
            setattr(self, name, getattr(made, name))"""


def model_parts(spec: AttentionSpec) -> dict[str, str]:
    """ModelNew's pieces for score_mod tensors: module `helpers`, the `model_init` call in __init__ and
    the kernel arguments' `tensor_pass` (all empty for problems without tensors)."""
    if not spec.tensors:
        return {"helpers": "", "model_init": "", "tensor_pass": ""}
    return {"helpers": TENSOR_HELPERS.format(names=tuple(spec.tensors), model_init=spec.model_init),
            "model_init": MODEL_TENSORS, "tensor_pass": " **_kw_tensor_args(self),"}


def _python_value(text: str) -> str:
    return f'self.params["{text}"]' if text.startswith("P_") else text


LSE_ARG = "Lse, "
LSE_STORE_1D = """
    tl.store(Lse + off_hz.to(tl.int64) * N_CTX + offs_m, m_i + tl.log2(l_i), mask=offs_m < N_CTX)"""
LSE_STORE_2D = """
    tl.store(Lse + off_hz.to(tl.int64) * N_CTX + q_tok, m_i + tl.log2(l_i), mask=q_ok)"""


def forward_kernel(spec: AttentionSpec, config: dict[str, Any], lse: bool = False) -> dict[str, str]:
    """The forward kernel's text (`body`, helpers included) and the wrapper's pieces for one launch
    configuration (`grid`, `setup`, `tma`, `launch`, `tiling`). With `lse` the kernel takes an `Lse`
    argument after `Out` and stores each row's log-sum-exp there (log2 units), for the backward pass."""
    param_args, param_pass = _param_text(spec)
    two_d = spec.grid is not None
    tma, setup = "", ""
    poly = int(config.get("POLY_EXP", 0))
    exp2, share = exp2_parts(poly)
    tile = K.TILE_UPDATE.format(score=score_block(spec), mask_block=mask_block(spec, always=two_d),
                                scale=scale_text(spec), exp2=exp2, share=share)
    dots = {"qk_dot": K.QK_DOT.format(out="qk", k="k"), "pv_dot": K.PV_DOT,
            "qk_dot_first": textwrap.indent(textwrap.dedent(K.QK_DOT.format(out="qk", k="k")), "    "),
            "qk_dot_next": K.QK_DOT.format(out="qk_next", k="k"),
            "lse_arg": LSE_ARG if lse else "", "lse_store": (LSE_STORE_2D if two_d else LSE_STORE_1D) if lse else ""}
    if two_d:
        grid_h, grid_w, kernel = spec.grid  # type: ignore[misc]
        body = K.KERNEL_2D.format(param_args=param_args, grid_h=grid_h, grid_w=grid_w, kernel=kernel,
                                  tile_update=tile, **dots)
        ph, pw = int(config["PATCH_H"]), int(config["PATCH_W"])
        grid = GRID_2D.format(grid_h=_python_value(grid_h), grid_w=_python_value(grid_w), patch_h=ph, patch_w=pw)
        launch = f"PATCH_H={ph}, PATCH_W={pw}, BLOCK_M={ph * pw}, BLOCK_N={int(config['BLOCK_N'])},"
        tiling = f"queries tiled as {ph}x{pw} patches of the 2-D grid, keys walked over the window rectangle"
    else:
        body = K.KERNEL_1D.format(param_args=param_args, param_pass=param_pass, tile_update=tile,
                                  bounds=forward_bounds(spec), start_m=_start_m(spec), **dots)
        bm, bn = int(config["BLOCK_M"]), int(config["BLOCK_N"])
        grid = GRID_1D.format(block_m=bm)
        launch = f"BLOCK_M={bm}, BLOCK_N={bn},"
        use_tma, ws = bool(config.get("TMA", False)), bool(config.get("WS", False))
        if ws and not use_tma:
            raise ValueError(f"config {config} sets WS without TMA; warp specialisation needs the TMA loop")
        # the single warp-specialised loop masks every tile when mask_mod exists or the length is ragged
        mask_all = "True" if spec.mask is not None else f"seq % {bn} != 0"
        tma = f" TMA={use_tma}, WS={ws}, MASK_ALL={mask_all},"
        setup = TMA_SETUP if use_tma else ""
        kinds = [k for k, on in (("causal", spec.causal), ("window", spec.window), ("documents", spec.documents)) if on]
        tiling = f"{bm}x{bn} tiles along the sequence, skipping fully masked tiles ({', '.join(kinds) or 'none'})"
    uses_tanh = any(t is not None and t.uses_tanh for t in (spec.score, spec.mask))
    helpers = (K.TANH_HELPER if uses_tanh else "") + (POLY_HELPER if poly else "")
    return {"body": helpers + textwrap.dedent(body), "grid": grid, "setup": setup, "tma": tma, "launch": launch,
            "tiling": tiling}


def tile_bounds(spec: AttentionSpec, causal: str, window: str, documents: str) -> str:
    """The bounds statements a 1-D kernel needs from the causal / window / document keys (templates
    with `{w}` / `{nd}` for the window and the document count)."""
    bounds = ""
    if spec.causal:
        bounds += causal
    if spec.window:
        bounds += window.format(w=spec.window)
    if spec.documents:
        bounds += documents.format(nd=spec.documents)
    return bounds or "    pass\n"


def forward_bounds(spec: AttentionSpec) -> str:
    """The 1-D kernel's key-range bounds (lo, hi, full_lo, full_hi) of a query tile."""
    return tile_bounds(spec, K.BOUNDS_CAUSAL, K.BOUNDS_WINDOW, K.BOUNDS_DOCUMENTS)


def _start_m(spec: AttentionSpec) -> str:
    # causal: the heaviest query blocks (last rows) start first, so the tail of the launch is short
    return "num_m - 1 - tl.program_id(0)" if spec.causal else "tl.program_id(0)"


def render_source(spec: AttentionSpec, config: dict[str, Any], name: str) -> str:
    """The full candidate file for one launch configuration."""
    parts = forward_kernel(spec, config)
    header = HEADER.format(name=name, tiling=parts["tiling"], config=config, init_args=repr(spec.init_args))
    model = model_parts(spec)
    wrapper = WRAPPER.format(grid=parts["grid"], setup=parts["setup"], tma=parts["tma"], launch=parts["launch"],
                             lazy=bool(config.get("LAZY", False)), pipe_qk=bool(config.get("PIPE_QK", False)),
                             num_warps=int(config["num_warps"]), num_stages=int(config["num_stages"]),
                             model_init=model["model_init"], tensor_pass=model["tensor_pass"])
    return header + parts["body"] + model["helpers"] + wrapper
