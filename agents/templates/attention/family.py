"""Template family "attention": FlexAttention-style problems -> fused Triton flash-attention forward.

Matches a problem that defines ``score_mod(score, b, h, q_idx, kv_idx)`` and/or
``mask_mod(b, h, q_idx, kv_idx)``, or declares ``ATTENTION = {...}`` / ``TEMPLATE = {"kind":
"attention"}``. Inputs are ``forward(q, k, v)`` with (B, H, S, D) tensors (bf16, fp16 or fp32),
output softmax(q k^T / sqrt(D) + score_mod, mask_mod) v.

How the problem becomes a kernel (honest summary):
- score_mod and mask_mod are translated from their Python AST into Triton expressions
  (attention_translate.py); nothing is matched by name. A score_mod of the form ``score + bias``
  folds log2(e) into the bias once (``qk = qk * qk_scale + bias * 1.44269504``); any other
  score_mod runs on the natural-log score and is scaled by log2(e) afterwards.
- Which tiles are skipped entirely comes from the ``ATTENTION`` metadata (causal, window,
  documents, grid; see attention_spec.py for the keys). The element-wise mask inside partially
  masked tiles is always the translated mask_mod, so wrong metadata fails verification.
- ``grid`` switches to 2-D tiling of queries (PATCH_H x PATCH_W patches of the image) and keys
  (the window rectangle of the patch, flattened), for neighbourhood attention.
- A second backend, a hand-written FlashAttention-3-style CUDA kernel for sm_90a (TMA producer,
  two ping-pong consumer warpgroups, wgmma; attention_cuda_*.py), is offered for 1-D problems when
  an H100 / H200 and a CUDA toolkit are present, ahead of the Triton configs. Its mods are
  translated to C++.
- A problem that declares ``BACKWARD = True`` gets training candidates (render_backward.py): the
  forward also stores the log-sum-exp, and Triton backward kernels (dK/dV, dQ; score_mod's derivative
  from differentiate.py) run behind an autograd.Function. The CUDA backend is forward-only.
- score_mod may read tensors of the Model (``score_mod(score, b, h, q_idx, kv_idx, slopes)``, see
  translate_triton.py); gradients flow to them in training candidates. Triton backend only.
configs() is the search space the graph's tune_launch_config strategy walks, best guess first.
"""
from __future__ import annotations

import ast
from typing import Any

from kernelwright.agents.coder import CodeRequest
from kernelwright.agents.templates.attention.differentiate import differentiated
from kernelwright.agents.templates.attention.render_backward import (
    BACKWARD_CONFIGS,
    DEFAULT_BACKWARD,
    render_training_source,
)
from kernelwright.agents.templates.attention.render_cuda import cuda_supported, render_cuda_candidate
from kernelwright.agents.templates.attention.render_triton import render_source
from kernelwright.agents.templates.attention.spec import AttentionSpec, is_attention_problem, parse_spec
from kernelwright.agents.templates.attention.translate_triton import TranslateError
from kernelwright.graph.plugins import register
from kernelwright.verifier import backward

# (BLOCK_M, BLOCK_N, num_warps, num_stages, LAZY, PIPE_QK, TMA, WS), Hopper-minded first guesses first.
# LAZY: skip the accumulator rescale unless the running max grew by > 8 (log2 units).
# PIPE_QK: issue the next tile's q.k^T before this tile's softmax (unmasked tiles).
# TMA: q/K/V tiles by TMA from device-side tensor descriptors (sm_90+; Triton >= 3.6 has them).
# WS: warp-specialise the key loop (TMA required): Triton's Hopper pass splits BLOCK_M = 128 over two
#   consumer warpgroups plus a producer (12 warps for num_warps=4) — the FA3 schedule. It handles one
#   loop per kernel, so WS kernels walk all key tiles in one loop and mask each (see MASK_ALL).
# A 9th entry, POLY_EXP = N, computes exp2 of the last 1/N of each score tile's columns with an FMA-pipe
#   polynomial instead of MUFU (attention_poly.py).
_F, _T = False, True
# Ordered by H100 measurements (benchmarks/results/attention_*_h100.*). LAZY and PIPE_QK lost 5-20 %
# (the runtime branch / early dot break Triton's wgmma pipelining), so they come last. POLY_EXP measured
# between 6 % faster (ALiBi, TMA 128x64) and 9 % slower (plain) and was never a variant's best, so it
# comes just before them. TMA entries measured within a few per cent of the pointer ones (best for
# causal). For D=64, 64x64 tiles won for 5 of 6 dense variants (the 128x64 / 4-warp kernel sits at 255
# registers and spills on causal when compiled for sm_90). WS entries are not offered: with Triton 3.6
# on an H100 (2026-11-25) every warp-specialised kernel gave wrong results (plain, causal, ALiBi,
# relpos, document masks; see BENCHMARKS.md), though it compiles.
_CONFIGS_1D = {
    128: [(128, 64, 8, 3, _F, _F, _F, _F), (64, 64, 4, 3, _F, _F, _F, _F), (128, 64, 8, 3, _F, _F, _T, _F),
          (64, 64, 4, 3, _F, _F, _T, _F), (128, 128, 8, 3, _F, _F, _F, _F), (128, 64, 8, 4, _F, _F, _F, _F),
          (64, 64, 4, 2, _F, _F, _F, _F), (64, 32, 4, 4, _F, _F, _F, _F), (128, 128, 8, 2, _F, _F, _F, _F),
          (128, 64, 8, 2, _F, _F, _F, _F), (64, 128, 4, 2, _F, _F, _F, _F), (128, 64, 8, 3, _F, _F, _F, _F, 8),
          (128, 64, 8, 3, _F, _F, _T, _F, 8), (128, 64, 8, 3, _F, _F, _F, _F, 4), (64, 64, 4, 3, _F, _F, _T, _F, 8),
          (128, 64, 8, 3, _F, _T, _F, _F), (128, 64, 8, 3, _T, _F, _F, _F), (128, 128, 8, 3, _T, _F, _F, _F)],
    64: [(64, 64, 4, 3, _F, _F, _F, _F), (128, 64, 4, 3, _F, _F, _F, _F), (128, 64, 4, 3, _F, _F, _T, _F),
         (128, 128, 8, 3, _F, _F, _F, _F), (128, 64, 8, 3, _F, _F, _F, _F), (128, 128, 4, 2, _F, _F, _F, _F),
         (64, 128, 4, 3, _F, _F, _F, _F), (128, 64, 4, 4, _F, _F, _F, _F), (64, 32, 4, 4, _F, _F, _F, _F),
         (128, 64, 4, 3, _F, _F, _F, _F, 8), (128, 64, 4, 3, _F, _F, _T, _F, 8), (128, 64, 4, 3, _F, _F, _F, _F, 4),
         (128, 64, 4, 3, _F, _T, _F, _F), (128, 64, 4, 3, _T, _F, _F, _F)],
}
# Short key ranges (sliding window, documents): small query blocks waste fewer masked pairs.
_CONFIGS_1D_SPARSE = [(64, 64, 4, 3, _F, _F, _F, _F), (64, 64, 4, 3, _F, _F, _T, _F), (64, 64, 4, 2, _F, _F, _F, _F),
                      (64, 32, 4, 4, _F, _F, _F, _F), (128, 64, 8, 3, _F, _F, _F, _F),
                      (128, 32, 4, 4, _F, _F, _F, _F), (64, 128, 4, 2, _F, _F, _F, _F),
                      (128, 128, 8, 3, _F, _F, _F, _F),
                      (64, 64, 4, 3, _T, _F, _F, _F)]
# The CUDA backend (attention_cuda_render.py): FA3-style sm_90a kernel, offered first where it can run.
# (BLOCK_N, STAGES, PERSISTENT), ordered by H100 and H200 measurements at B=4 H=16 S=4096
# (benchmarks/results/attention_cuda_*); PERSISTENT: one CTA per multiprocessor walks the tiles.
_CONFIGS_CUDA = [(128, 2, _T), (176, 2, _T), (128, 3, _F), (128, 2, _F), (176, 2, _F)]
# short key ranges (window, documents): 176-wide key tiles straddle the range ends; 64 wastes less
_CONFIGS_CUDA_SPARSE = [(128, 2, _T), (64, 3, _T), (128, 2, _F), (64, 3, _F)]
# (PATCH_H, PATCH_W, BLOCK_N, num_warps, num_stages, LAZY) for the 2-D neighbourhood tiling.
_CONFIGS_2D = [(8, 8, 32, 4, 3, _F), (8, 8, 64, 4, 3, _F), (8, 8, 32, 4, 4, _F), (8, 8, 64, 4, 2, _F),
               (4, 16, 64, 4, 3, _F), (16, 8, 64, 8, 3, _F), (8, 16, 64, 8, 3, _F), (8, 8, 128, 4, 3, _F),
               (8, 8, 64, 4, 3, _T), (8, 16, 64, 8, 3, _T)]


def cuda_backend_available() -> bool:
    """An sm_90 GPU (H100 / H200) and a CUDA toolkit for load_inline: the CUDA configs can run here."""
    import torch

    if not torch.cuda.is_available() or torch.cuda.get_device_capability() != (9, 0):
        return False
    from torch.utils.cpp_extension import CUDA_HOME

    return CUDA_HOME is not None


def _supported(tma: bool, ws: bool) -> bool:
    """Whether the installed Triton has device-side tensor descriptors (TMA) and loop warp specialisation."""
    import inspect

    import triton.language as tl

    if tma and not hasattr(tl, "make_tensor_descriptor"):
        return False
    return not ws or "warp_specialize" in inspect.signature(tl.range.__init__).parameters


@register("template", "attention")
class AttentionFamily:
    """Flash-attention forward kernels generated from score_mod / mask_mod and ATTENTION metadata."""

    name = "attention"
    trains = True  # training candidates: forward + backward kernels (render_backward.py)

    def matches(self, request: CodeRequest) -> bool:
        """True for attention problems whose mods the translator can express in Triton."""
        functions = set(request.metadata.get("functions", []))
        if not (functions & {"score_mod", "mask_mod"} or is_attention_problem(request.problem_source)):
            return False
        try:
            spec = parse_spec(request.problem_source)
            if backward.declared(request.metadata) and spec.score is not None:
                differentiated(ast.parse(request.problem_source))  # the backward needs d score_mod / d score
        except (TranslateError, SyntaxError):
            return False
        return True

    def spec(self, request: CodeRequest) -> AttentionSpec:
        return parse_spec(request.problem_source)

    def configs(self, request: CodeRequest, head_dim: int | None = None) -> list[dict[str, Any]]:
        """Launch configurations to search (JSON-able), best first guess first.

        `head_dim` overrides the problem's D constant (the benchmark sweeps D = 64 too)."""
        spec = self.spec(request)
        configs: list[dict[str, Any]] = []
        if spec.grid is not None:
            configs = [{"PATCH_H": ph, "PATCH_W": pw, "BLOCK_N": bn, "num_warps": w, "num_stages": s, "LAZY": lazy}
                       for ph, pw, bn, w, s, lazy in _CONFIGS_2D]
        else:
            if spec.window or spec.documents:
                table = _CONFIGS_1D_SPARSE
            else:
                table = _CONFIGS_1D[128 if (head_dim or spec.head_dim) > 64 else 64]
            for m, n, w, s, lazy, pipe, tma, ws, *poly in table:
                if _supported(tma, ws):
                    configs.append({"BLOCK_M": m, "BLOCK_N": n, "num_warps": w, "num_stages": s, "LAZY": lazy,
                                    "PIPE_QK": pipe, "TMA": tma, "WS": ws, **({"POLY_EXP": poly[0]} if poly else {})})
        trains = backward.declared(request.metadata)  # the CUDA backend has no backward kernels
        if trains:  # the first forward config with every backward config, then the other forward configs
            first, rest = configs[0], configs[1:]
            return [{**first, "BACKWARD": b} for b in BACKWARD_CONFIGS] + \
                [{**c, "BACKWARD": DEFAULT_BACKWARD} for c in rest]
        if spec.grid is None and request.device != "cpu" and cuda_backend_available() \
                and cuda_supported(request.problem_source, spec):
            cuda = [{"BACKEND": "cuda", "BLOCK_N": n, "STAGES": s, "PERSISTENT": p}
                    for n, s, p in (_CONFIGS_CUDA_SPARSE if spec.window or spec.documents else _CONFIGS_CUDA)]
            configs = cuda + configs
        return configs

    def render(self, request: CodeRequest, config: dict[str, Any]) -> str:
        """Complete candidate source (KernelBench ModelNew) for one configuration."""
        if config.get("BACKEND") == "cuda":
            return render_cuda_candidate(request.problem_source, self.spec(request), config, request.problem_name)
        if backward.declared(request.metadata):  # forward + backward kernels behind an autograd.Function
            forward = {k: v for k, v in config.items() if k != "BACKWARD"}
            return render_training_source(self.spec(request), forward, request.problem_name, request.problem_source,
                                          backward=config.get("BACKWARD"))
        return render_source(self.spec(request), config, request.problem_name)
