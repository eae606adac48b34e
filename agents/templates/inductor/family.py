"""The `inductor` template family: torch.compile's Inductor writes the kernels, export.py makes them a
candidate. Asked last (priority 90): the hand families and the `lowered` family come first, and
`switch_backend` reaches it from them.

matches: Inductor compiles the problem (generate.py, in a subprocess, cached per problem, shapes,
device and config) and its output exports under the strict policy (no library kernel left).
configs: Inductor's own knobs: the default compile with the autotuned (GPU) or first heuristic (CPU)
launch configs; max-autotune with Triton GEMM templates and coordinate-descent tuning; no persistent
reductions; Inductor's second heuristic launch candidate of each kernel.
render: the exported candidate for the shapes the verifier will run (the automatic small shapes on
a CPU, see verifier/inputs.base_overrides; the problem's own on a GPU).
"""
from __future__ import annotations

import json
import subprocess
import sys
import threading
from typing import Any

import torch
from kernelwright.agents.coder import CodeRequest
from kernelwright.agents.templates.inductor.export import Unsupported, export
from kernelwright.agents.templates.lowered.family import hand_family_problem
from kernelwright.graph.plugins import register
from kernelwright.verifier.inputs import base_overrides
from kernelwright.verifier.problem import LoadError, load_problem

CONFIGS: list[dict[str, Any]] = [
    {"patches": {}, "launch": "chosen"},
    {"patches": {"max_autotune": True, "max_autotune_gemm_backends": "TRITON", "coordinate_descent_tuning": True},
     "launch": "chosen"},
    {"patches": {"triton.persistent_reductions": False}, "launch": "chosen"},
    {"patches": {}, "launch": 1},
]
GENERATE_TIMEOUT_S = 600

_cache: dict[str, dict[str, Any]] = {}
_lock = threading.Lock()


def on_cpu(device: str) -> bool:
    """True when candidates of this run are verified on the CPU (Triton interpreter)."""
    return device.startswith("cpu") or (device == "auto" and not torch.cuda.is_available())


def generated(source: str, device: str, patches: dict[str, Any]) -> dict[str, Any]:
    """generate.py's answer for this problem, device and config (cached; {"error": ...} on failure)."""
    cpu = on_cpu(device)
    try:
        overrides = base_overrides(load_problem(source), small=cpu)
    except LoadError as exc:
        return {"error": str(exc)}
    request = {"source": source, "overrides": overrides, "device": "cpu" if cpu else "cuda", "patches": patches}
    key = json.dumps(request, sort_keys=True, default=str)
    with _lock:
        if key not in _cache:
            _cache[key] = _run_generate(request)
        return _cache[key]


def _run_generate(request: dict[str, Any]) -> dict[str, Any]:
    try:
        done = subprocess.run([sys.executable, "-m", "kernelwright.agents.templates.inductor.generate"],
                              input=json.dumps(request, default=str), capture_output=True, text=True,
                              timeout=GENERATE_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return {"error": f"Inductor did not finish within {GENERATE_TIMEOUT_S} s"}
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": f"the Inductor subprocess failed (exit {done.returncode}): {tail[:300]}"}
    return json.loads(lines[-1])


@register("template", "inductor")
class InductorFamily:
    """Inductor's fused Triton kernels as a self-contained candidate."""

    name = "inductor"
    priority = 90  # the general fallback: after `lowered` (50)

    def _candidate(self, request: CodeRequest, config: dict[str, Any]) -> str:
        answer = generated(request.problem_source, request.device, config["patches"])
        if "error" in answer:
            raise Unsupported(answer["error"])
        return export(request.problem_source, answer, config["launch"], config["patches"] or None,
                      interpreter=on_cpu(request.device))

    def _exports(self, request: CodeRequest) -> tuple[list[dict[str, Any]], str | None]:
        """The configs whose candidate exports, and the first config's reason when none does."""
        working, reason = [], None
        for config in CONFIGS:
            try:
                self._candidate(request, config)
                working.append(json.loads(json.dumps(config)))
            except Unsupported as exc:
                reason = reason or str(exc)
                if "strict policy" not in reason:  # the other knobs only change how GEMMs / convolutions lower
                    break
        return working, None if working else reason

    def explain(self, request: CodeRequest) -> str | None:
        """Why the family does not match (None when it does)."""
        if hand_family_problem(request):
            return "the problem names a hand-written template family"
        return self._exports(request)[1]

    def matches(self, request: CodeRequest) -> bool:
        return self.explain(request) is None

    def configs(self, request: CodeRequest) -> list[dict[str, Any]]:
        """Inductor's knobs (CONFIGS) that export for this problem: a GEMM that only the max-autotune
        Triton templates keep out of cuBLAS has that config alone."""
        return self._exports(request)[0]

    def render(self, request: CodeRequest, config: dict[str, Any]) -> str:
        try:
            return self._candidate(request, config)
        except Unsupported as exc:
            raise ValueError(f"problem {request.problem_name}: the inductor family cannot export it: {exc}") from None
