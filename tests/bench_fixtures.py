"""Helpers for the bench tests: tiny problem files whose stand-in outcome is declared inline."""
from __future__ import annotations

from pathlib import Path

FAKE_RUN = "bench_fakes:synthetic_run"

PROBLEM = '''import torch
import torch.nn as nn

FAKE_OUTCOME = {outcome!r}


class Model(nn.Module):
    def forward(self, x):
        return x * 2


def get_inputs():
    return [torch.randn(8)]


def get_init_inputs():
    return []
'''


def write_problem(folder: Path, name: str, **outcome) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.py"
    path.write_text(PROBLEM.format(outcome=outcome))
    return path


def bench_config(tmp_path: Path, suite: Path, **overrides):
    from kernelwright.bench import BenchConfig

    options = dict(suite_dir=str(suite), db=str(tmp_path / "bench.sqlite"), artifacts_dir=str(tmp_path / "art"),
                   run_fn=FAKE_RUN, devices="cpu", worker_mode="thread", budget_s=30)
    options.update(overrides)
    return BenchConfig(**options)
