"""The verdict record: one pydantic model that every verifier stage fills its part of."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Status = Literal["compile_error", "runtime_error", "timeout", "incorrect", "rejected", "correct"]
Stage = Literal["load", "static", "compile", "correctness", "anticheat", "timing", "done"]

LOG_LIMIT = 8000


def truncate(text: str, limit: int = LOG_LIMIT) -> str:
    """Keep the head and tail of a long log, marking what was cut."""
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n... [{len(text) - limit} characters cut] ...\n{text[-half:]}"


class TrialResult(BaseModel):
    """One correctness trial: which inputs, how far off, and whether it passed."""

    trial: int
    kind: str = "random"  # random | extra_shape | large_magnitude | shifted | repeat
    shape: str = ""
    max_abs_err: float | None = None
    max_rel_err: float | None = None
    rel_norm_err: float | None = None
    mismatched: int = 0
    passed: bool = False
    skipped: bool = False  # not judged: eager fails on these inputs, or the candidate refused the shape (note)
    note: str = ""


class TimingStats(BaseModel):
    """Statistics of repeated timings in milliseconds."""

    median_ms: float
    mean_ms: float
    std_ms: float
    min_ms: float
    max_ms: float
    n: int
    wall_ms: float | None = None  # wall-clock per iteration, for the integrity cross-check
    raw_median_ms: float | None = None  # before the empty event pair's time was taken off
    event_overhead_ms: float | None = None  # median of empty event pairs in the same sequence


class Environment(BaseModel):
    """Where the verdict was produced."""

    device: str = "cpu"
    gpu_name: str | None = None
    driver: str | None = None
    python: str = ""
    torch: str = ""
    triton: str | None = None
    cupy: str | None = None
    cuda: str | None = None
    interpreter: bool = False
    hostname: str = ""


class Verdict(BaseModel):
    """Everything the verifier says about one candidate for one problem."""

    status: Status
    stage: Stage
    message: str = ""
    rule: str | None = None  # anti-cheat or correctness rule that decided a rejection
    flags: list[str] = Field(default_factory=list)  # every rule that fired, fatal or not
    policy: str = "strict"  # the policy that judged it (rules.POLICIES)
    # whether it passes under each policy; None: not known (strict stopped at a rule kernelbench only flags)
    policies: dict[str, bool | None] = Field(default_factory=dict)
    pytorch_ops: list[str] = Field(default_factory=list)  # compute ops left in PyTorch (flagged under kernelbench)
    own_gpu_share: float | None = None  # the candidate's own kernels' share of kernel time (profiled trial, CUDA)
    problem: str = ""
    backend: str | None = None  # triton | cupy | load_inline | unknown
    candidate_sha: str = ""
    trials: list[TrialResult] = Field(default_factory=list)
    timing: TimingStats | None = None  # a problem with a backward pass: forward + backward as one call
    forward_timing: TimingStats | None = None  # such a problem's forward alone (None for the others)
    baselines: dict[str, TimingStats] = Field(default_factory=dict)  # eager, compile
    speedups: dict[str, float] = Field(default_factory=dict)  # vs eager / compile
    timing_meaningful: bool = False
    profile: dict | None = None
    logs: str = ""
    environment: Environment = Field(default_factory=Environment)
    elapsed_s: float = 0.0
    # seconds per stage (baselines, load, correctness, timing, ...)
    durations: dict[str, float] = Field(default_factory=dict)

    @property
    def correct(self) -> bool:
        return self.status == "correct"

    def summary(self) -> str:
        """One line for progress views and critic prompts."""
        text = f"{self.status} at {self.stage}"
        if self.rule:
            text += f" [{self.rule}]"
        if self.message:
            text += f": {self.message.splitlines()[0][:200]}"
        if self.timing and self.timing_meaningful:
            text += f" ({self.timing.median_ms:.4f} ms"
            if self.forward_timing:
                text += f" forward + backward, {self.forward_timing.median_ms:.4f} ms forward"
            if "eager" in self.speedups:
                text += f", {self.speedups['eager']:.2f}x eager"
            text += ")"
        return text
