"""Verifier settings: how hard to check and how long to wait."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class VerifyOptions(BaseModel):
    """Knobs of one verification. Defaults are the strict ones."""

    device: str = "auto"            # auto | cpu | cuda | cuda:N
    policy: Literal["strict", "kernelbench"] = "strict"  # which rules only flag: rules.POLICIES
    trials: int = 5                 # random-input correctness trials (at least 5 enforced)
    extra_shapes: bool = True       # test the problem's extra / perturbed shapes
    large_magnitude: bool = True    # a trial with inputs x LARGE_MAGNITUDE (default 100), see robustness.py
    shifted: bool = True            # a trial with inputs + SHIFT_MAGNITUDE (default 1000), see robustness.py
    timing: bool = True             # measure candidate and baselines (meaningful on GPU only)
    backward: bool = False          # also check gradients, time forward + backward (backward.py); a problem's
                                    # BACKWARD = True asks for it too
    baselines: tuple[str, ...] = ("eager", "compile")
    warmup_ms: float = 25.0
    rep_ms: float = 100.0
    min_reps: int = 10
    profile: bool = False           # collect Triton compile metadata / ncu figures
    load_timeout_s: float = 120.0   # import + compile (load_inline builds here)
    # Deadlines of correctness and timing calls derive from the reference's measured time (deadlines.py):
    deadline_floor_s: float | None = None  # least seconds per call; None: 10 on a GPU, 60 on the CPU
    deadline_factor: float = 1000.0  # a candidate call may take this many times the reference's
    compile_timeout_s: float = 120.0  # GPU: extra seconds until a call's first kernel launch returns
    run_timeout_s: float = 120.0    # cap of a correctness call's derived deadline
    timing_timeout_s: float = 180.0  # cap of a timing call's derived deadline
    # the whole verification (budget.py); None: 600 s on a GPU, 1800 s on the CPU
    verify_timeout_s: float | None = Field(default=None, gt=0)
