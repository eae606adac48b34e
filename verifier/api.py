"""`kernelwright.verify(problem, candidate) -> Verdict`: the one-call entry to the verifier."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from kernelwright.verifier.job import resolve_options
from kernelwright.verifier.options import VerifyOptions
from kernelwright.verifier.pool import get_pool
from kernelwright.verifier.problem import Problem
from kernelwright.verifier.verdict import Verdict


def verify(problem: Problem | str | Path, candidate: str | Path, options: VerifyOptions | None = None,
           **overrides: Any) -> Verdict:
    """Verify one candidate against one problem in a sandboxed worker and return the verdict.

    problem / candidate: a path, source text, or (problem only) a `Problem`. Keyword overrides
    change single options, e.g. ``verify(p, c, device="cpu", trials=5)``. A candidate that does
    not load is a `compile_error` verdict; a broken problem raises `LoadError`; an unknown option
    or device raises `ValueError`. Candidate failures never raise: they are verdicts.
    """
    opts = resolve_options(options, **overrides)
    return get_pool(opts.device).submit(problem, candidate, opts).result()


def verify_many(problem: Problem, paths: list[Path], options: VerifyOptions, device: str) -> list[Verdict]:
    """Verify several candidate files of one problem in parallel on the pool of `device` (in order)."""
    return list(get_pool(device).verify_many([(problem, path, options) for path in paths]))
