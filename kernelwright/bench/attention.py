"""The attention benchmarks' shared pieces: variants and targets, problems and inputs at a shape,
timing and checks, the environment line, config labels and the markdown report.

The scripts benchmarks/attention_bench.py, attention_ablate.py and attention_profile.py use them;
the pieces that need no GPU are tested in tests/test_attention_bench_cli.py.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
import triton

from kernelwright.verifier.problem import load_problem

VARIANTS = ["plain", "causal", "relpos", "relpos_causal", "alibi", "sliding_window", "neighborhood_2d",
            "softcap", "document_causal"]
TARGETS = {"neighborhood_2d": 2.0, "softcap": 1.5}  # x FlexAttention; every other variant 1.2
# ragged sequence for the correctness check (neighbourhood: a 24 x 42 grid); B=2, H=16, S=1008 give
# the same Triton specialisation (divisibility by 16) as the timed shapes, so one compile serves both
CHECK_SEQ, CHECK_B, CHECK_H = 1008, 2, 16


def problem_for(problems: Path, variant: str, dtype: str = "bf16") -> Any:
    """The variant's problem in folder `problems`; with dtype fp16 its DTYPE is switched to torch.float16
    (every problem is bf16)."""
    source = (problems / f"{variant}.py").read_text()
    if dtype == "fp16":
        if "DTYPE = torch.bfloat16" not in source:
            raise ValueError(f"{variant}: no `DTYPE = torch.bfloat16` line to switch to float16")
        source = source.replace("DTYPE = torch.bfloat16", "DTYPE = torch.float16")
    return load_problem(source)


def overrides_for(variant: str, batch: int, heads: int, seq: int, dim: int) -> dict[str, int]:
    out = {"B": batch, "H": heads, "S": seq, "D": dim}
    if variant == "neighborhood_2d":
        if seq == CHECK_SEQ:
            out.update(GRID_H=24, GRID_W=42)
        else:
            side = math.isqrt(seq)
            if side * side != seq:
                raise ValueError(f"neighborhood_2d needs a square sequence length, got {seq}")
            out.update(GRID_H=side, GRID_W=side)
    return out


def import_candidate(source: str, name: str) -> Any:
    path = Path(tempfile.mkdtemp(prefix="kw_bench_")) / f"{name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def make_inputs(module: Any) -> tuple[list[torch.Tensor], list]:
    torch.manual_seed(0)
    return [x.cuda() for x in module.get_inputs()], list(module.get_init_inputs())


def bench(fn: Callable[[], Any], rep: int = 100) -> float:
    from triton.testing import do_bench

    return float(do_bench(fn, warmup=25, rep=rep, return_mode="median"))


def check(out: torch.Tensor, ref: torch.Tensor, atol: float = 2e-2, rtol: float = 2e-2) -> dict[str, Any]:
    err = (out.float() - ref.float()).abs()
    bad = int((err > atol + rtol * ref.float().abs()).sum())
    return {"max_abs_err": float(err.max()), "bad_elements": bad, "ok": bad == 0 and not torch.isnan(out).any().item()}


def ptxas_version() -> str:
    """Version of the ptxas Triton assembles with: $TRITON_PTXAS_PATH, else the one in its wheel."""
    path = (os.environ.get("TRITON_PTXAS_PATH")
            or str(Path(triton.__file__).parent / "backends" / "nvidia" / "bin" / "ptxas"))
    try:
        text = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30).stdout
    except OSError as exc:
        return f"unknown ({path}: {exc})"
    found = re.search(r"V(\d+\.\d+\.\d+)", text)
    return f"{found.group(1) if found else 'unknown'} ({path})"


def environment() -> dict[str, Any]:
    props = torch.cuda.get_device_properties(0)
    return {"gpu": props.name, "sms": props.multi_processor_count, "torch": torch.__version__,
            "triton": triton.__version__, "ptxas": ptxas_version(), "cuda": torch.version.cuda,
            "python": platform.python_version(), "date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
            "command": " ".join(sys.argv)}


def fmt(row: dict[str, Any], key: str, digits: int = 3) -> str:
    value = row.get(key)
    return "-" if value is None else f"{value:.{digits}f}"


def config_tag(config: dict[str, Any]) -> str:
    """Short label of a config: kind (cuda = the sm_90a CUDA kernel, ws = warp-specialised + TMA, tma,
    ptr = pointer loads), tiles, and flags (L = LAZY, P = PIPE_QK, EN = POLY_EXP N)."""
    if config.get("BACKEND") == "cuda":
        return f"cuda128x{config['BLOCK_N']}s{config['STAGES']}{'P' if config.get('PERSISTENT') else ''}"
    kind = "ws" if config.get("WS") else "tma" if config.get("TMA") else "ptr"
    if "PATCH_H" in config:
        return (f"{kind}{config['PATCH_H']}x{config['PATCH_W']}/{config['BLOCK_N']}"
                f"w{config['num_warps']}s{config['num_stages']}")
    extra = "".join(flag for flag, key in (("L", "LAZY"), ("P", "PIPE_QK")) if config.get(key))
    extra += f"E{config['POLY_EXP']}" if config.get("POLY_EXP") else ""
    return f"{kind}{config['BLOCK_M']}x{config['BLOCK_N']}w{config['num_warps']}s{config['num_stages']}{extra}"


def config_lines(rows: list[dict[str, Any]]) -> list[str]:
    """One line per row: every tuned config's ms (tuning pass), so new kernels compare with the old best."""
    return [f"{r['variant']} S={r['S']} D={r['D']}: " + "  ".join(f"{config_tag(t['config'])}={t['ms']:.3f}"
                                                             for t in r.get("configs_tried", []))
            for r in rows]


FLEX_BACKENDS = {"flex": "Triton", "flex_flash": "FLASH"}
FLEX_SLACK = 2.0  # a gradient that misses its check where Flex's misses too passes within this factor of Flex's error


def within_flex(ours: dict[str, Any], flex: dict[str, Any]) -> bool:
    """Every gradient check (name -> {"ok", "max_abs_err"}) passes, or misses where Flex's misses too and errs at
    most FLEX_SLACK x as much."""
    return all(f["ok"] or (not flex[name]["ok"] and f["max_abs_err"] <= FLEX_SLACK * flex[name]["max_abs_err"])
               for name, f in ours.items())


def with_ratios(row: dict[str, Any], target: float) -> dict[str, Any]:
    """Speedups of kernelwright over each timed baseline (x_NAME), and over Flex's fastest backend
    (x_flex_best, its name in flex_best): the figure a target is stated against."""
    ours = row.get("kernelwright_ms")
    if ours is None:
        return row
    for key in [k for k in row if k.endswith("_ms") and k != "kernelwright_ms"]:
        row[f"x_{key[:-3]}"] = row[key] / ours
    timed = {name: row[f"{name}_ms"] for name in FLEX_BACKENDS if f"{name}_ms" in row}
    if timed:
        best = min(timed, key=timed.__getitem__)
        row.update(flex_best=FLEX_BACKENDS[best], x_flex_best=timed[best] / ours, target_x_flex=target)
    return row


def markdown(rows: list[dict[str, Any]], env: dict[str, Any]) -> str:
    lines = [f"# Attention forward, {env['gpu']} (torch {env['torch']}, triton {env['triton']}, ptxas "
             f"{env.get('ptxas', '?').split(' ')[0]}, {env['date_utc']} UTC)",
             "", f"Command: `{env['command']}`. Median ms (do_bench); TFLOP/s over unmasked pairs only.", "",
             "| variant | B,H,S,D | kernelwright ms | TFLOP/s | Flex ms (Triton) | Flex ms (FLASH) | x best Flex "
             "(target) | FA4 ms | x FA4 | SDPA ms | x SDPA | compile ms | eager ms | best config |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        target = f"{fmt(r, 'x_flex_best', 2)} vs {r.get('flex_best', '-')} ({r.get('target_x_flex', '-')})"
        cfg = r.get("best_config", {})
        lines.append(f"| {r['variant']} | {r['B']},{r['H']},{r['S']},{r['D']} | {fmt(r, 'kernelwright_ms')} | "
                     f"{fmt(r, 'kernelwright_tflops', 0)} | {fmt(r, 'flex_ms')} | {fmt(r, 'flex_flash_ms')} | "
                     f"{target} | "
                     f"{fmt(r, 'fa4_ms')} | {fmt(r, 'x_fa4', 2)} | {fmt(r, 'sdpa_ms')} | {fmt(r, 'x_sdpa', 2)} | "
                     f"{fmt(r, 'compile_ms')} | {fmt(r, 'eager_ms')} | {cfg} |")
    notes = [f"- {r['variant']} S={r['S']} D={r['D']}: {k}: {v}" for r in rows for k, v in r.items()
             if k.endswith("_skipped") or (k == "errors" and v)]
    tried = ["", "Tuning pass, ms per config (cuda = CUDA sm_90a kernel, ws = warp-specialised + TMA, tma = TMA loads, "
             "ptr = pointer loads; L = LAZY, P = PIPE_QK, EN = POLY_EXP N):", ""]
    tried += [f"- {line}" for line in config_lines(rows)]
    return "\n".join(lines + tried + ([""] + notes if notes else [])) + "\n"


def config_arg(text: str) -> dict[str, Any]:
    """--extra-config value: a JSON object of launch parameters."""
    try:
        config = json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"not JSON ({exc.msg}): {text!r}") from None
    if not isinstance(config, dict):
        raise argparse.ArgumentTypeError(f"expected a JSON object of launch parameters, got {text!r}")
    return config
