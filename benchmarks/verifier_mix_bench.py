"""Verifier throughput on a realistic mix (issue 16 item 10): verdicts per GPU-minute, cold start apart.

    python benchmarks/verifier_mix_bench.py --out $OUT/mix            # on a GPU host
    TRITON_INTERPRET=1 python benchmarks/verifier_mix_bench.py --device cpu --per-problem 2   # smoke test

Five problems of KernelBench size: a 4096 x 4096 fp16 matmul, softmax and layer norm over 4096 rows,
causal attention at S=1024 and an elementwise op. Candidates come from the offline template coder
(each problem's launch configurations in turn; beyond them, copies with a comment in the kernel body,
so that Triton compiles each afresh). All of them go through `kernelwright.verify` with every check
on, `--in-flight` submissions at a time (threads), as a user's loop would submit them.

Cold start: the first candidate of every problem (worker start, reference and baseline timing,
torch.compile of the reference). Steady state: the other candidates, verdicts per minute of wall
clock on the one GPU. Each verdict's `durations` give the time per stage.
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from kernelwright.agents.coder import CodeRequest
from kernelwright.agents.template_coder import TemplateCoder
from kernelwright.verifier.problem import load_problem
from kernelwright.verifier.stage_clock import stage_keys

import kernelwright

ROOT = Path(__file__).resolve().parents[1]

MATMUL = '''"""C = A @ B, fp16, (N, N) x (N, N)."""
import torch
import torch.nn as nn

N = 4096


class Model(nn.Module):
    def forward(self, a, b):
        return a @ b


def get_inputs():
    return [torch.randn(N, N, dtype=torch.float16), torch.randn(N, N, dtype=torch.float16)]


def get_init_inputs():
    return []
'''


def mix_problems(folder: Path) -> list[Path]:
    """The five problems, written into `folder` (ours from problems/, sizes set for the mix)."""
    def resized(name: str, src: Path, **sizes: int) -> Path:
        text = src.read_text()
        for key, value in sizes.items():
            text = re.sub(rf"^{key} = \d+$", f"{key} = {value}", text, flags=re.M)
        path = folder / f"{name}.py"
        path.write_text(text)
        return path

    matmul = folder / "matmul_fp16.py"
    matmul.write_text(MATMUL)
    return [matmul,
            resized("softmax", ROOT / "problems/softmax.py", ROWS=4096, COLS=8192),
            resized("layernorm", ROOT / "problems/layernorm.py", ROWS=4096, COLS=4096),
            resized("attention_causal", ROOT / "problems/attention/causal.py", S=1024),
            resized("swish_scale", ROOT / "problems/swish_scale.py", ROWS=8192, COLS=4096)]


def candidates(problem, count: int, device: str) -> list[str]:
    """`count` distinct sources: the template coder's configurations in turn, then salted copies."""
    coder, tried, sources = TemplateCoder(), [], []
    while len(sources) < count:
        strategy = "first_draft" if not sources else "tune_launch_config"
        result = coder.generate(CodeRequest(problem_source=problem.source, problem_name=problem.name,
                                            description=problem.description, metadata=problem.metadata,
                                            strategy=strategy, tried=list(tried), device=device))
        if result.source is None or result.source in sources:
            break
        sources.append(result.source)
        tried.append(result.meta)
    if not sources:
        raise SystemExit(f"no offline candidate for {problem.name}")
    base = list(sources)
    for i in range(len(sources), count):
        source = base[i % len(base)]
        salted = re.sub(r"(@triton\.jit\s*\ndef .*?\)\s*(?:->[^:]*)?:\s*\n)", rf"\1    # copy {i}\n", source,
                        count=1, flags=re.S)
        sources.append(salted if salted != source else source + f"\n# copy {i}\n")
    return sources


def verify_all(jobs: list[tuple], device: str, in_flight: int) -> list[dict]:
    """Verify every (problem, source) job, `in_flight` at a time; one row per verdict."""
    def one(job: tuple) -> dict:
        problem, source = job
        start = time.perf_counter()
        verdict = kernelwright.verify(problem, source, device=device, timing=device != "cpu")
        return {"problem": problem.name, "status": verdict.status, "rule": verdict.rule,
                "summary": verdict.summary()[:200], "seconds": time.perf_counter() - start,
                "durations": dict(verdict.durations),
                "median_ms": verdict.timing.median_ms if verdict.timing else None}

    with ThreadPoolExecutor(in_flight) as pool:
        return list(pool.map(one, jobs))


def stage_table(rows: list[dict]) -> dict[str, dict[str, float]]:
    """Per stage (and part, `stage.part`): median seconds per verdict and the share of all verdicts'
    summed stage time."""
    stages = sorted({k for r in rows for k in r["durations"]})
    total = sum(sum(r["durations"][k] for k in stage_keys(r["durations"])) for r in rows) or 1.0
    return {k: {"median_s": statistics.median(r["durations"].get(k, 0.0) for r in rows),
                "share": sum(r["durations"].get(k, 0.0) for r in rows) / total} for k in stages}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", help="cuda (default) or cpu (a smoke test, shrunken shapes)")
    parser.add_argument("--per-problem", type=int, default=10, help="candidates per problem (default 10)")
    parser.add_argument("--in-flight", type=int, default=4, help="submissions in flight (default 4)")
    parser.add_argument("--out", default="bench_out/verifier_mix")
    args = parser.parse_args()
    if args.per_problem < 2 or args.in_flight < 1:
        print("error: --per-problem must be >= 2 and --in-flight >= 1", file=sys.stderr)
        raise SystemExit(2)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="kw-mix-"))
    problems = [load_problem(p) for p in mix_problems(folder)]
    plan = {p.name: candidates(p, args.per_problem, args.device) for p in problems}
    print({name: len(s) for name, s in plan.items()}, flush=True)

    start = time.perf_counter()
    cold = verify_all([(p, plan[p.name][0]) for p in problems], args.device, args.in_flight)
    cold_s = time.perf_counter() - start
    print(f"cold start: {len(cold)} verdicts in {cold_s:.1f} s", flush=True)
    jobs = [(p, s) for i in range(1, args.per_problem) for p in problems for s in plan[p.name][i:i + 1]]
    start = time.perf_counter()
    steady = verify_all(jobs, args.device, args.in_flight)
    steady_s = time.perf_counter() - start
    rate = 60.0 * len(steady) / steady_s
    results = {"device": args.device, "in_flight": args.in_flight, "cold": cold, "cold_s": cold_s,
               "steady": steady, "steady_s": steady_s, "per_minute": rate, "stages": stage_table(steady)}
    (out / "verifier_mix.json").write_text(json.dumps(results, indent=2))
    for row in cold + steady:
        if row["status"] != "correct":
            print("NOT CORRECT:", row["problem"], row["summary"], flush=True)

    print("\n| measure | value |\n|---|---|")
    print(f"| cold start: first verdict of each of {len(cold)} problems | {cold_s:.1f} s |")
    print(f"| steady state: {len(steady)} verdicts, {args.in_flight} in flight | {steady_s:.1f} s: "
          f"**{rate:.1f} per minute** |")
    by_status: dict[str, int] = {}
    for row in cold + steady:
        by_status[row["status"]] = by_status.get(row["status"], 0) + 1
    print(f"| statuses | {by_status} |")
    for name in plan:
        seconds = [r["seconds"] for r in steady if r["problem"] == name]
        print(f"| {name}: median s per verdict (latency, in flight) | {statistics.median(seconds):.2f} |")
    alone = sum(r["durations"].get("timing", 0.0) + r["durations"].get("baselines", 0.0) for r in steady)
    print(f"| GPU held alone (timing, baselines) | {alone:.1f} s, {100 * alone / steady_s:.0f} % of the steady state |")
    for stage, row in results["stages"].items():
        print(f"| stage {stage} | median {row['median_s']:.3f} s, {row['share'] * 100:.0f} % of stage time |")


if __name__ == "__main__":
    main()
