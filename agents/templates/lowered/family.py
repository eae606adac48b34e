"""The `lowered` template family: any KernelBench-style problem, without an LLM.

matches: the problem carries no hand-family metadata (TEMPLATE, score_mod, mask_mod), its forward
captures as a shape-generic aten graph (capture.py, generalize.py) and every node has a lowering
(emit.py; dense ops through the dense_*.py wrappers). The capture is cached per problem source.
configs: launch sizes of the pointwise kernels (BLOCK, num_warps) and of the reductions / scans
(tile elements, chunk length, num_warps), and how float32 convolutions / matmuls multiply (``fp32_dot``:
"tf32x3" on tensor cores near float32's precision, "ieee" on CUDA cores, "tf32" where PyTorch's flag
lets eager do the same). The first is the default; the second falls back to "ieee", so a first-correct
search of two configs (the bench) still has full float32 where tf32x3 misses; the third is plain TF32,
which the tuning walk (it keeps the fastest verified config) reaches. Once a tf32x3 config of a problem
with matrix products is verified correct, the "ieee" configs (a precision fallback, CUDA cores) go last.
render: the candidate source (render.py).
"""
from __future__ import annotations

import inspect
import re
import threading
from dataclasses import dataclass
from typing import Any

from kernelwright.agents.coder import CodeRequest
from kernelwright.agents.templates.lowered.capture import Capture, CaptureError, source_key
from kernelwright.agents.templates.lowered.emit import Emitter, Unsupported
from kernelwright.agents.templates.lowered.generalize import capture_generic
from kernelwright.agents.templates.lowered.pointwise import packet
from kernelwright.agents.templates.lowered.render import dense_wrappers, render_candidate
from kernelwright.graph.plugins import register

CONFIGS = [
    {"pw_block": 1024, "pw_warps": 4, "red_tile": 4096, "red_block_n": 1024, "red_warps": 4, "fp32_dot": "tf32x3"},
    {"pw_block": 2048, "pw_warps": 8, "red_tile": 8192, "red_block_n": 2048, "red_warps": 8, "fp32_dot": "ieee"},
    {"pw_block": 1024, "pw_warps": 4, "red_tile": 4096, "red_block_n": 1024, "red_warps": 4, "fp32_dot": "tf32"},
    {"pw_block": 512, "pw_warps": 4, "red_tile": 2048, "red_block_n": 512, "red_warps": 4, "fp32_dot": "tf32x3"},
    {"pw_block": 4096, "pw_warps": 8, "red_tile": 16384, "red_block_n": 4096, "red_warps": 16, "fp32_dot": "ieee"},
]


@dataclass
class Lowering:
    """What the family learned about one problem source: its capture, or why there is none."""

    capture: Capture | None
    reason: str | None


_cache: dict[str, Lowering] = {}
_lock = threading.Lock()  # tracing uses process-global state; coder calls run in threads


def lowering(source: str) -> Lowering:
    """Capture the problem once per source text and check that every op lowers."""
    key = source_key(source)
    with _lock:
        if key not in _cache:
            try:
                cap = capture_generic(source)
                Emitter(cap, dense_wrappers())  # raises Unsupported for an op without a lowering
                _cache[key] = Lowering(cap, None)
            except (CaptureError, Unsupported) as exc:
                _cache[key] = Lowering(None, str(exc))
        return _cache[key]


def hand_family_problem(request: CodeRequest) -> bool:
    metadata = request.metadata or {}
    functions = set(metadata.get("functions") or [])
    source = request.problem_source
    return bool(metadata.get("template")) or bool(functions & {"score_mod", "mask_mod"}) \
        or re.search(r"^(def (score_mod|mask_mod)\b|TEMPLATE\s*=)", source, re.M) is not None


def tf32x3_verified(tried: list[dict[str, Any]]) -> bool:
    """Whether an earlier attempt of this family with tf32x3 products was verified correct."""
    return any(t.get("template") == "lowered" and t.get("status") == "correct"
               and (t.get("config") or {}).get("fp32_dot") == "tf32x3" for t in tried)


def multiplies_matrices(capture: Capture | None) -> bool:
    """Whether the graph has an op whose dense wrapper takes `fp32_dot` (matmuls, convolutions)."""
    dot_ops = {name for name, (wrapper, _) in dense_wrappers().items()
               if "fp32_dot" in inspect.signature(wrapper).parameters}
    return capture is not None and any(packet(n) in dot_ops for n in capture.graph.graph.nodes)


@register("template", "lowered")
class LoweredFamily:
    """Captures the forward as an aten graph and lowers it to fused Triton kernels."""

    name = "lowered"
    priority = 50  # after the hand-written families (priority 0)

    def matches(self, request: CodeRequest) -> bool:
        if hand_family_problem(request):
            return False
        return lowering(request.problem_source).capture is not None

    def explain(self, request: CodeRequest) -> str | None:
        """Why the family does not match (None when it does)."""
        if hand_family_problem(request):
            return "the problem names a hand-written template family"
        return lowering(request.problem_source).reason

    def configs(self, request: CodeRequest) -> list[dict[str, Any]]:
        configs = [dict(c) for c in CONFIGS]
        if tf32x3_verified(request.tried) and multiplies_matrices(lowering(request.problem_source).capture):
            configs.sort(key=lambda c: c["fp32_dot"] == "ieee")  # stable: the rest keep their order
        return configs

    def render(self, request: CodeRequest, config: dict[str, Any]) -> str:
        low = lowering(request.problem_source)
        if low.capture is None:
            raise ValueError(f"problem {request.problem_name} cannot be lowered: {low.reason}")
        with _lock:  # the emitter reads the shared graph
            return render_candidate(request.problem_source, low.capture, config)
