"""One verification job as the pool hands it to the judge."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from kernelwright.verifier import backward
from kernelwright.verifier.options import VerifyOptions
from kernelwright.verifier.problem import LoadError, Problem, load_problem, read_candidate
from kernelwright.verifier.verdict import Verdict


@dataclass
class Job:
    """A loaded problem, a candidate's source, the options, and the pool device running it.

    `device` is the pool's name for the device ("cpu", "cuda:1"); inside the worker that GPU is
    the only one visible, so code running there uses `local_device` ("cpu" or "cuda:0").
    """

    problem: Problem
    candidate_source: str
    candidate_label: str
    options: VerifyOptions
    device: str

    @property
    def local_device(self) -> str:
        return "cpu" if self.device == "cpu" else "cuda:0"

    @property
    def interpreter(self) -> bool:
        """True when the worker runs Triton through the interpreter (CPU mode)."""
        return self.device == "cpu"


def resolve_options(options: VerifyOptions | None = None, **overrides: object) -> VerifyOptions:
    """Options with keyword overrides applied; an unknown name is a one-line ValueError."""
    base = options or VerifyOptions()
    unknown = sorted(set(overrides) - set(VerifyOptions.model_fields))
    if unknown:
        known = ", ".join(VerifyOptions.model_fields)
        raise ValueError(f"unknown verify option {unknown[0]!r}; known options: {known}")
    return VerifyOptions.model_validate({**base.model_dump(), **overrides}) if overrides else base


def make_job(problem: Problem | str | Path, candidate: str | Path, options: VerifyOptions,
             device: str = "") -> Job | Verdict:
    """Load both files: a Job, or a compile_error Verdict when the candidate does not load.

    A broken problem raises LoadError: that is the caller's mistake, not the candidate's.
    """
    loaded = load_problem(problem)
    if options.backward:
        loaded = dataclasses.replace(loaded, metadata=backward.marked(loaded.metadata, True))
    try:
        source, label = read_candidate(candidate)
    except LoadError as exc:
        return Verdict(status="compile_error", stage="load", message=str(exc), problem=loaded.name)
    return Job(problem=loaded, candidate_source=source, candidate_label=label, options=options, device=device)
