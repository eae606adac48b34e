"""Stand-ins for graph tests: an in-process verifier (numerics only) and scripted coders/verdicts."""
from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import torch
from kernelwright.agents.coder import CodeRequest, CodeResult
from kernelwright.verifier.options import VerifyOptions
from kernelwright.verifier.problem import Problem, exec_source
from kernelwright.verifier.verdict import TimingStats, TrialResult, Verdict

_counter = itertools.count()


def inprocess_verifier(problem: Problem, paths: list[Path], options: VerifyOptions, device: str) -> list[Verdict]:
    """Run each candidate at the problem's SMALL_SHAPE in this process and compare with the reference."""
    out = []
    for path in paths:
        pm = problem.module(problem.metadata.get("small_shape") or {})
        try:
            cm = exec_source(Path(path).read_text(), f"kw_cand_{next(_counter)}", str(path))
        except Exception as exc:  # noqa: BLE001
            out.append(Verdict(status="compile_error", stage="load", message=str(exc)))
            continue
        torch.manual_seed(0)
        inputs = pm.get_inputs()
        try:
            got = cm.ModelNew(*pm.get_init_inputs())(*inputs)
        except Exception as exc:  # noqa: BLE001
            out.append(Verdict(status="runtime_error", stage="correctness", message=f"{type(exc).__name__}: {exc}"))
            continue
        ref = pm.Model(*pm.get_init_inputs())(*inputs)
        err = (got.float() - ref.float()).abs().max().item()
        ok = got.shape == ref.shape and err < 1e-4
        trial = TrialResult(trial=0, shape=str(tuple(ref.shape)), max_abs_err=err, passed=ok)
        out.append(Verdict(status="correct" if ok else "incorrect", stage="done" if ok else "correctness",
                           rule=None if ok else "values_mismatch", trials=[trial]))
    return out


def timed(status: str, median_ms: float | None = None, eager_ms: float = 1.0, **kw: Any) -> Verdict:
    """A synthetic verdict, optionally with meaningful GPU-like timing."""
    v = Verdict(status=status, stage="done" if status == "correct" else "correctness", **kw)
    if median_ms is not None:
        v.timing = TimingStats(median_ms=median_ms, mean_ms=median_ms, std_ms=0.0, min_ms=median_ms,
                               max_ms=median_ms, n=10)
        v.timing_meaningful = True
        v.speedups = {"eager": eager_ms / median_ms}
    return v


class ScriptedVerifier:
    """Returns the scripted verdicts in order (one per candidate)."""

    def __init__(self, verdicts: list[Verdict]):
        self.verdicts = list(verdicts)
        self.calls = 0

    def __call__(self, problem, paths, options, device):
        self.calls += 1
        return [self.verdicts.pop(0) if self.verdicts else timed("incorrect") for _ in paths]


class EchoCoder:
    """Zero-cost coder: a tiny valid-looking candidate recording the request it got."""

    name = "echo"

    def __init__(self, tokens: int = 0):
        self.requests: list[CodeRequest] = []
        self.tokens = tokens

    def generate(self, request: CodeRequest) -> CodeResult:
        self.requests.append(request)
        src = f"# strategy {request.strategy}\nclass ModelNew:\n    pass\n"
        return CodeResult(source=src, tokens=self.tokens, meta={"n": len(self.requests)})
