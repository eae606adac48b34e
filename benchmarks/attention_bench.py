"""Attention variants on the GPU: kernelwright's template kernels vs FlexAttention, SDPA, compiled/eager.

For each variant and shape: render the attention family's configs, check the kernel against the
problem's reference at a small ragged shape, time a quick autotune over configs() (time-boxed),
then time the best config and every baseline with triton.testing.do_bench (median, L2 flushed).
TFLOP/s count only unmasked score entries: 4 * B * H * D * (#unmasked (q, kv) pairs).
Writes attention_bench.json and attention_bench.md to --out (default $OUT or ./bench_out) and
prints a short table last.

    python benchmarks/attention_bench.py                       # all variants, B=4 H=16 S=4096 D=128
    python benchmarks/attention_bench.py --seq 1024 16384 --variants plain causal --no-naive
    TRITON_PTXAS_PATH=$(dirname $(which nvcc))/ptxas python benchmarks/attention_bench.py --variants plain \
        --configs 1 --extra-config '{"BLOCK_M": 128, "BLOCK_N": 128, "num_warps": 4, "num_stages": 2,
        "LAZY": false, "PIPE_QK": false, "TMA": true, "WS": true}'   # a WS kernel, another ptxas
"""
from __future__ import annotations

import argparse
import json
import os
import time
import traceback
from pathlib import Path
from typing import Any

import torch
from kernelwright.agents.coder import CodeRequest
from kernelwright.agents.templates.attention.family import AttentionFamily

from kernelwright.bench import attention_baselines as baselines
from kernelwright.bench.attention import (
    CHECK_B,
    CHECK_H,
    CHECK_SEQ,
    TARGETS,
    VARIANTS,
    bench,
    check,
    config_arg,
    config_lines,
    config_tag,
    environment,
    fmt,
    import_candidate,
    make_inputs,
    markdown,
    overrides_for,
    problem_for,
    with_ratios,
)

PROBLEMS = Path(__file__).resolve().parent.parent / "problems" / "attention"
def run_variant(variant: str, args: argparse.Namespace, seq: int, dim: int, family: AttentionFamily) -> dict[str, Any]:
    problem = problem_for(PROBLEMS, variant, args.dtype)
    request = CodeRequest(problem_source=problem.source, problem_name=problem.name, description=problem.description,
                          metadata=problem.metadata, strategy="tune_launch_config")
    row: dict[str, Any] = {"variant": variant, "B": args.batch, "H": args.heads, "S": seq, "D": dim,
                           "dtype": args.dtype,
                           "errors": {}}
    full = problem.module(overrides_for(variant, args.batch, args.heads, seq, dim))
    small = problem.module(overrides_for(variant, CHECK_B, CHECK_H, CHECK_SEQ, dim))
    (q, k, v), init = make_inputs(full)
    (sq, sk, sv), sinit = make_inputs(small)
    small_ref = small.Model(*sinit)(sq, sk, sv)
    flops = float(full.count_flops(q, k, v))
    row["tflop"] = flops / 1e12

    # quick autotune over the family's configs, each checked at the small ragged shape first
    configs = family.configs(request, head_dim=dim)[: args.configs] + list(args.extra_config)
    tuned, deadline, first_full = [], time.time() + args.tune_seconds, None
    for i, config in enumerate(configs):
        if time.time() > deadline and tuned:
            break
        try:
            cand = import_candidate(family.render(request, config), f"kw_{variant}_{seq}_{dim}_{i}")
            verdict = check(cand.ModelNew(*sinit)(sq, sk, sv), small_ref)
            if not verdict["ok"]:
                row["errors"][f"config{i}"] = f"incorrect at check shape: {verdict}"
                continue
            model = cand.ModelNew(*init)
            # the full shape can compile differently (MASK_ALL=False for warp-specialised kernels):
            # every config must agree there with the first correct one
            full_out = model(q, k, v)
            if first_full is None:
                first_full, first_index = full_out, i
            elif not (agree := check(full_out, first_full))["ok"]:
                row["errors"][f"config{i}"] = f"disagrees with config {first_index} at the full shape: {agree}"
                continue
            del full_out
            ms = bench(lambda: model(q, k, v), rep=args.tune_rep)  # noqa: B023 - called in this iteration
            tuned.append((ms, i, config, model))
        except Exception as exc:  # noqa: BLE001 - record and go on with the next config
            row["errors"][f"config{i}"] = f"{type(exc).__name__}: {str(exc)[:300]}"
    row["configs_tried"] = [{"config": c, "ms": round(ms, 4)} for ms, _, c, _ in sorted(tuned, key=lambda t: t[1])]
    if not tuned:
        return row
    _, _, best_config, model = min(tuned, key=lambda t: t[0])
    row["best_config"] = best_config
    row["best_tag"] = config_tag(best_config)
    ours = model(q, k, v)
    row["check_small"] = check(model.__class__(*sinit)(sq, sk, sv), small_ref)
    row["kernelwright_ms"] = bench(lambda: model(q, k, v))

    torch._dynamo.reset()  # a fresh cache per variant: flex's recompiles would otherwise hit the limit
    builders = {"flex": lambda: baselines.flex(full, q, k, v),
                "flex_flash": lambda: baselines.flex(full, q, k, v, backend="FLASH"),
                "fa4": lambda: baselines.fa4(variant, q, k, v), "sdpa": lambda: baselines.sdpa(variant, q, k, v)}
    if not args.no_naive and time.time() < args.naive_until:
        builders["compile"] = lambda: baselines.naive_compiled(full, init, q, k, v)
        builders["eager"] = lambda: baselines.naive_eager(full, init, q, k, v)
    for name, build in builders.items():
        try:
            fn = build()
            out = fn()
            row[f"check_vs_{name}"] = check(ours, out)
            row[f"{name}_ms"] = bench(fn)
            del out
        except baselines.Skip as why:
            row[f"{name}_skipped"] = str(why)
        except Exception as exc:  # noqa: BLE001
            row["errors"][name] = f"{type(exc).__name__}: {str(exc)[:300]}"
        torch.cuda.empty_cache()
    for name in ("kernelwright", *builders):
        if f"{name}_ms" in row:
            row[f"{name}_tflops"] = flops / (row[f"{name}_ms"] * 1e-3) / 1e12
    return with_ratios(row, TARGETS.get(variant, 1.2))


def _warm_task(task: tuple) -> str:
    """Child process: compile one of our configs (at the check shape) or FlexAttention (full shape) so
    that the parent later finds the Triton / Inductor on-disk caches warm."""
    variant, seq, dim, batch, heads, index, dtype = task
    try:
        problem = problem_for(PROBLEMS, variant, dtype)
        if index == "flex":
            module = problem.module(overrides_for(variant, batch, heads, seq, dim))
            (q, k, v), _ = make_inputs(module)
            baselines.flex(module, q, k, v)()
        else:
            request = CodeRequest(problem_source=problem.source, problem_name=problem.name, description="",
                                  metadata=problem.metadata, strategy="tune_launch_config")
            family = AttentionFamily()
            config = family.configs(request, head_dim=dim)[index]
            module = problem.module(overrides_for(variant, CHECK_B, CHECK_H, CHECK_SEQ, dim))
            (q, k, v), init = make_inputs(module)
            cand = import_candidate(family.render(request, config), f"kw_warm_{variant}_{seq}_{dim}_{index}")
            cand.ModelNew(*init)(q, k, v)
            # the timed shape may specialise differently (MASK_ALL of warp-specialised configs)
            full = problem.module(overrides_for(variant, batch, heads, seq, dim))
            (q, k, v), init = make_inputs(full)
            cand.ModelNew(*init)(q, k, v)
        torch.cuda.synchronize()
        return "ok"
    except Exception as exc:  # noqa: BLE001 - the parent compiles (and reports) it again
        return f"{variant} {index}: {type(exc).__name__}: {str(exc)[:200]}"


def precompile(args: argparse.Namespace) -> None:
    """Warm the compile caches in parallel processes (compiling dominates a cold benchmark)."""
    import concurrent.futures
    import multiprocessing

    tasks = []
    for seq, dim in args.shape_list:
        for variant in args.variants:
            tasks.append((variant, seq, dim, args.batch, args.heads, "flex", args.dtype))
            tasks += [(variant, seq, dim, args.batch, args.heads, i, args.dtype) for i in range(args.configs)]
    t0 = time.time()
    with concurrent.futures.ProcessPoolExecutor(args.precompile,
                                                mp_context=multiprocessing.get_context("spawn")) as pool:
        failures = [r for r in pool.map(_warm_task, tasks) if r != "ok"]
    print(json.dumps({"precompile_s": round(time.time() - t0, 1), "tasks": len(tasks), "failures": failures[:20]}),
          flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description="Attention variants: kernelwright vs FlexAttention / SDPA")
    parser.add_argument("--variants", nargs="*", default=VARIANTS)
    parser.add_argument("--seq", nargs="*", type=int, default=[4096])
    parser.add_argument("--head-dim", nargs="*", type=int, default=[128])
    parser.add_argument("--shapes", nargs="*", default=None,
                        help="SxD pairs run in this order (e.g. 4096x128 16384x128 1024x128 4096x64); "
                             "overrides --seq/--head-dim")
    parser.add_argument("--dtype", choices=["bf16", "fp16"], default="bf16", help="input dtype (the problems are bf16)")
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--heads", type=int, default=16)
    parser.add_argument("--configs", type=int, default=6, help="configs of configs() to try per variant")
    parser.add_argument("--extra-config", action="append", default=[], type=config_arg, metavar="JSON",
                        help="a config dict to try after those of configs() (repeatable), e.g. a WS one")
    parser.add_argument("--tune-seconds", type=float, default=25.0, help="autotune time box per variant")
    parser.add_argument("--tune-rep", type=int, default=30, help="do_bench rep (ms) while tuning")
    parser.add_argument("--no-naive", action="store_true", help="skip the compiled and eager references")
    parser.add_argument("--precompile", type=int, default=0, help="processes that warm the compile caches first")
    parser.add_argument("--time-box", type=float, default=1e9, help="seconds: later variants are skipped after this")
    parser.add_argument("--naive-box", type=float, default=1e9, help="seconds: no naive baselines after this")
    parser.add_argument("--out", default=os.environ.get("OUT", "bench_out"))
    args = parser.parse_args()
    start = time.time()
    args.naive_until = start + args.naive_box
    if args.shapes:
        args.shape_list = [tuple(int(x) for x in item.lower().split("x")) for item in args.shapes]
    else:
        args.shape_list = [(seq, dim) for seq in args.seq for dim in args.head_dim]
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    env, rows, family = environment(), [], AttentionFamily()
    print(json.dumps(env), flush=True)
    if args.precompile:
        precompile(args)
    for seq, dim in args.shape_list:
        for variant in args.variants:
            t0 = time.time()
            if t0 - start > args.time_box:
                print(json.dumps({"skipped": variant, "S": seq, "D": dim, "why": "time box"}), flush=True)
                continue
            try:
                row = run_variant(variant, args, seq, dim, family)
            except Exception as exc:  # noqa: BLE001
                row = {"variant": variant, "B": args.batch, "H": args.heads, "S": seq, "D": dim,
                       "errors": {"setup": f"{type(exc).__name__}: {exc}"}, "trace": traceback.format_exc()[-1500:]}
            row["wall_s"] = round(time.time() - t0, 1)
            rows.append(row)
            print(json.dumps(row, default=str), flush=True)
            (out_dir / "attention_bench.json").write_text(json.dumps({"environment": env, "rows": rows}, indent=1,
                                                                     default=str))
            (out_dir / "attention_bench.md").write_text(markdown(rows, env))
            torch.cuda.empty_cache()
    print()
    print("\n".join(config_lines(rows)))
    print()
    print(f"{'variant':16s} {'S':>6s} {'D':>4s} {'ours ms':>8s} {'TF/s':>5s} {'flex ms':>8s} {'flash ms':>8s} "
          f"{'xFlex*':>6s} {'fa4 ms':>8s} {'sdpa ms':>8s} {'xSDPA':>6s} best   (xFlex*: over Flex's faster backend)")
    for r in rows:
        print(f"{r['variant']:16s} {r['S']:6d} {r['D']:4d} {fmt(r, 'kernelwright_ms'):>8s} "
              f"{fmt(r, 'kernelwright_tflops', 0):>5s} {fmt(r, 'flex_ms'):>8s} {fmt(r, 'flex_flash_ms'):>8s} "
              f"{fmt(r, 'x_flex_best', 2):>6s} {fmt(r, 'fa4_ms'):>8s} {fmt(r, 'sdpa_ms'):>8s} "
              f"{fmt(r, 'x_sdpa', 2):>6s} {r.get('best_tag', '-')}")


if __name__ == "__main__":
    main()
