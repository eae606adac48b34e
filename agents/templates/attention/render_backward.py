"""Render a `ModelNew` candidate whose forward is differentiable: the family's forward kernel (also
storing each row's log-sum-exp) and the backward kernels of kernel_triton_bwd.py, joined by a
`torch.autograd.Function`. Gradients flow to q, k and v, and to the tensors score_mod reads (the dK/dV
kernel scatter-adds each (query, key) pair's share with atomics; one add per tile for an element
indexed by batch / head only, such as `slopes[h]`).

    source = render_training_source(parse_spec(problem_source), forward_config, "attention_causal")

`backward` configs: BLOCK_M / BLOCK_N (query / key tile of both backward kernels) or per kernel
BLOCK_M1 / BLOCK_N1 (dK/dV) and BLOCK_M2 / BLOCK_N2 (dQ), num_warps, num_stages (BACKWARD_CONFIGS).
A score_mod the backward cannot differentiate raises TranslateError (one line).
"""
from __future__ import annotations

import ast
from typing import Any

from kernelwright.agents.templates.attention import kernel_triton_bwd as KB
from kernelwright.agents.templates.attention.differentiate import GRAD_NAME, differentiated, tensor_derivatives
from kernelwright.agents.templates.attention.render_triton import (
    MODEL_HEAD,
    _param_text,
    forward_bounds,
    forward_kernel,
    model_parts,
    scale_text,
    score_block,
    tile_bounds,
)
from kernelwright.agents.templates.attention.spec import AttentionSpec, spec_names
from kernelwright.agents.templates.attention.translate_triton import element_offset, float_index_safe, translate

DEFAULT_BACKWARD = {"BLOCK_M": 64, "BLOCK_N": 64, "num_warps": 4, "num_stages": 2}
# The backward configs a training search walks (after DEFAULT_BACKWARD). BLOCK_M1 / BLOCK_N1: the dK/dV
# kernel's query step / key tile; BLOCK_M2 / BLOCK_N2: the dQ kernel's query tile / key step (BLOCK_M /
# BLOCK_N set both kernels alike). The asymmetric ones follow Triton's fused-attention tutorial: each
# kernel holds a wide tile of what it accumulates and steps through the other side in narrow tiles.
# Tiles below 64 lose Hopper's wgmma for the dots whose rows they set (32-query steps in dK/dV).
# Not yet ordered by any GPU measurement.
BACKWARD_CONFIGS = [
    DEFAULT_BACKWARD,
    {"BLOCK_M1": 32, "BLOCK_N1": 128, "BLOCK_M2": 128, "BLOCK_N2": 32, "num_warps": 4, "num_stages": 3},
    {"BLOCK_M1": 64, "BLOCK_N1": 128, "BLOCK_M2": 128, "BLOCK_N2": 64, "num_warps": 8, "num_stages": 2},
]


def kernel_tiles(backward: dict[str, Any] | None) -> dict[str, dict[str, int]]:
    """BLOCK_M / BLOCK_N of each backward kernel ("dkdv", "dq") for a backward config."""
    bwd = {**DEFAULT_BACKWARD, **(backward or {})}
    return {kernel: {"BLOCK_M": int(bwd.get(f"BLOCK_M{i}", bwd["BLOCK_M"])),
                     "BLOCK_N": int(bwd.get(f"BLOCK_N{i}", bwd["BLOCK_N"]))}
            for i, kernel in ((1, "dkdv"), (2, "dq"))}

HEADER = '''"""kernelwright attention forward + backward for `{name}` (template family "attention", rendered).

Forward: {tiling}; it also stores each row's log-sum-exp. Backward: delta, dK/dV and dQ kernels,
score_mod's derivative inlined. Forward config: {config}. Backward config: {backward}.
"""
import math
import os

import torch
import torch.nn as nn
import triton
import triton.language as tl

INIT_ARGS = {init_args}
_INTERPRET = os.environ.get("TRITON_INTERPRET", "0") == "1"
# the CPU interpreter's tl.dot mishandles bf16 operands: there, dots run on float32 copies; tanh.approx needs a GPU
_UPCAST_DOT = _INTERPRET
_FAST_TANH = not _INTERPRET
'''

AUTOGRAD = '''

class _KwAttention(torch.autograd.Function):
    """The rendered forward (saving q, k, v, the output and the log-sum-exp) and backward kernels."""

    @staticmethod
    def forward(ctx, q, k, v, params, *tensors):
        q, k, v = q.contiguous(), k.contiguous(), v.contiguous()
        batch, heads, seq, head_dim = q.shape
        out = torch.empty_like(q)
        lse = torch.empty((batch, heads, seq), device=q.device, dtype=torch.float32)
{grid}{setup}
        _kw_attn_fwd[grid](
            q, k, v, out, lse, 1.0 / math.sqrt(head_dim),
            q.stride(0), q.stride(1), q.stride(2), k.stride(0), k.stride(1), k.stride(2),
            v.stride(0), v.stride(1), v.stride(2), out.stride(0), out.stride(1), out.stride(2),
            batch, heads, seq, **params, HEAD_DIM=head_dim, {launch}
            FAST_TANH=_FAST_TANH, UPCAST_DOT=_UPCAST_DOT, LAZY={lazy}, PIPE_QK={pipe_qk},{tma}
            num_warps={num_warps}, num_stages={num_stages},
        )
        ctx.save_for_backward(q, k, v, out, lse, *tensors)
        ctx.params = params
        return out

    @staticmethod
    def backward(ctx, do):
        q, k, v, out, lse, *tensors = ctx.saved_tensors
        do = do.contiguous()
        batch, heads, seq, head_dim = q.shape
        sm_scale = 1.0 / math.sqrt(head_dim)
        delta = torch.empty_like(lse)
        dq, dk, dv = torch.empty_like(q), torch.empty_like(k), torch.empty_like(v)
        # score_mod's tensors: float32 gradients with their strides, summed by the dK/dV kernel
        grads = [torch.empty_strided(t.shape, t.stride(), device=t.device, dtype=torch.float32).zero_()
                 for t in tensors]
        grad_args = {{f"DT_{{n}}": g for n, g in zip({tensor_names}, grads)}}
        _kw_attn_bwd_delta[(triton.cdiv(seq, {bm2}), batch * heads)](out, do, delta, seq, HEAD_DIM=head_dim,
                                                                    BLOCK_M={bm2})
        tiles = dict(HEAD_DIM=head_dim, FAST_TANH=_FAST_TANH, UPCAST_DOT=_UPCAST_DOT, num_warps={bwd_warps},
                     num_stages={bwd_stages})
        # dK/dV: a program owns {bn1} keys, steps {bm1} queries; dQ: owns {bm2} queries, steps {bn2} keys
        _kw_attn_bwd_dkdv[(triton.cdiv(seq, {bn1}), batch * heads)](q, k, v, do, lse, delta, dk, dv, sm_scale,
                                                                   batch, heads, seq, **ctx.params, **tiles,
                                                                   BLOCK_M={bm1}, BLOCK_N={bn1}, **grad_args)
        _kw_attn_bwd_dq[(triton.cdiv(seq, {bm2}), batch * heads)](q, k, v, do, lse, delta, dq, sm_scale,
                                                                 batch, heads, seq, **ctx.params, **tiles,
                                                                 BLOCK_M={bm2}, BLOCK_N={bn2})
        return dq, dk, dv, None, *[g.to(t.dtype) for g, t in zip(grads, tensors)]
'''

FORWARD = '''        return _KwAttention.apply(q, k, v, self.params)
'''
FORWARD_TENSORS = '''        return _KwAttention.apply(q, k, v, {**self.params, **_kw_tensor_args(self)},
                                  *[getattr(self, name) for name in TENSOR_PARAMS])
'''


def render_training_source(spec: AttentionSpec, config: dict[str, Any], name: str, problem_source: str,
                           backward: dict[str, Any] | None = None) -> str:
    """The full candidate file: forward config `config` (as the inference family takes it) and the
    backward kernels' `backward` config (DEFAULT_BACKWARD where a key is missing)."""
    bwd = {**DEFAULT_BACKWARD, **(backward or {})}
    tiles = kernel_tiles(backward)
    fwd = forward_kernel(spec, config, lse=True)
    param_args, _ = _param_text(spec)
    two_d = spec.grid is not None
    tile = _tile_parts(spec, problem_source)
    kernels = KB.KERNELS.format(param_args=param_args, tile=KB.TILE.format(**tile, tensor_grads=""),
                                tile_dkdv=KB.TILE.format(**tile, tensor_grads=_tensor_grads(spec, problem_source)),
                                grad_args="".join(f"DT_{n}, " for n in spec.tensors),
                                key_bounds=_grid_bounds(spec, KB.KEY_BOUNDS_GRID) if two_d else _key_bounds(spec),
                                query_bounds=_grid_bounds(spec, KB.QUERY_BOUNDS_GRID) if two_d
                                else forward_bounds(spec).rstrip("\n"))
    summary = f"dK/dV {tiles['dkdv']}, dQ {tiles['dq']}, num_warps {bwd['num_warps']}, num_stages {bwd['num_stages']}"
    header = HEADER.format(name=name, tiling=fwd["tiling"], config=config, backward=summary,
                           init_args=repr(spec.init_args))
    autograd = AUTOGRAD.format(grid=fwd["grid"].replace("self.params", "params"), setup=fwd["setup"],
                               launch=fwd["launch"], tma=fwd["tma"], lazy=bool(config.get("LAZY", False)),
                               pipe_qk=bool(config.get("PIPE_QK", False)), num_warps=int(config["num_warps"]),
                               num_stages=int(config["num_stages"]), bwd_warps=int(bwd["num_warps"]),
                               bwd_stages=int(bwd["num_stages"]),
                               tensor_names=repr(tuple(spec.tensors)),
                               bm1=tiles["dkdv"]["BLOCK_M"], bn1=tiles["dkdv"]["BLOCK_N"],
                               bm2=tiles["dq"]["BLOCK_M"], bn2=tiles["dq"]["BLOCK_N"])
    model = model_parts(spec)
    head = MODEL_HEAD.format(model_init=model["model_init"])
    return (header + fwd["body"] + KB.DOT_HELPER + kernels + model["helpers"] + autograd + head
            + (FORWARD_TENSORS if spec.tensors else FORWARD))


def _tile_parts(spec: AttentionSpec, problem_source: str) -> dict[str, str]:
    """KB.TILE's fields but `tensor_grads`: one tile's recomputation of P and dS (score_mod, its
    derivative where needed, the mask), the same in both backward kernels."""
    statements = [score_block(spec)] if spec.score is not None else []
    times_grad = ""
    if spec.score is not None and spec.score.additive_bias is None:  # d(score + bias)/d score = 1: nothing to do
        tree = differentiated(ast.parse(problem_source))
        grad = translate(tree, GRAD_NAME, spec_names(tree), float_indices=float_index_safe(tree, GRAD_NAME))
        statements += ["        " + s for s in grad.statements] + [f"        dmod = {grad.result}"]
        times_grad = " * dmod"
    mask = ""
    if spec.mask is not None:
        statements += ["        " + s for s in spec.mask.statements]
        mask = f" & ({spec.mask.result})"
    return {"statements": "\n".join(statements), "mask": mask, "scale": scale_text(spec), "times_grad": times_grad}


def _tensor_grads(spec: AttentionSpec, problem_source: str) -> str:
    """The dK/dV tile's atomic adds into the gradients of score_mod's tensors ("" when it reads none)."""
    if not spec.tensors:
        return ""
    tree, uses = tensor_derivatives(ast.parse(problem_source))
    names = spec_names(tree)
    text = ""
    for use in uses:
        grad = translate(tree, use.grad_fn, names)
        indices = [translate(tree, fn, names).result for fn in use.index_fns]
        template = KB.TENSOR_GRAD_HEAD if use.per_head else KB.TENSOR_GRAD_PAIRS
        text += "".join("\n        " + s for s in grad.statements)
        text += template.format(tensor=use.tensor, offset=element_offset(f"T_{use.tensor}", indices), grad=grad.result)
    return text


def _grid_bounds(spec: AttentionSpec, template: str) -> str:
    """A 2-D neighbourhood kernel's row-band bounds, with the grid's height, width and window size."""
    grid_h, grid_w, kernel = spec.grid  # type: ignore[misc]
    return template.format(gh=grid_h, gw=grid_w, k=kernel)


def _key_bounds(spec: AttentionSpec) -> str:
    """The dK/dV kernel's query range for its key tile, from the causal / window / document keys."""
    return tile_bounds(spec, KB.KEY_BOUNDS_CAUSAL, KB.KEY_BOUNDS_WINDOW, KB.KEY_BOUNDS_DOCUMENTS).rstrip("\n")
