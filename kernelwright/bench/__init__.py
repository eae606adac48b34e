"""Benchmark runner: run the graph over a suite of problems, store results, report metrics.

Parts: `suite` (find problems), `store` (SQLite results, resume), `scheduler` (one run per
device at a time, locally or through Ray), `metrics` (correct rate, fast_p, geomean),
`scaling` (solved fraction against budget), `report` (markdown/HTML), `compare` (two benches).
"""
from __future__ import annotations

from kernelwright.bench.runner import BenchConfig, run_bench

__all__ = ["BenchConfig", "run_bench"]
