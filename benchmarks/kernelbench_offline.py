"""How much of a KernelBench-format suite the offline template coder solves, verified on the CPU.

For every problem file: the template coder writes candidates (its first `--configs` configurations,
or `--graph`: the whole offline loop `kernelwright.run_graph(..., coder="template")`), and the real
verifier checks them on the CPU (Triton interpreter) at the shapes the verifier shrinks to. Each
problem runs in its own process with a timeout and a memory cap, so a crash or a hang is one record
(status + one-line reason), never the end of the run. Records go to `<out>/results.jsonl` as they
finish; a re-run skips problems already recorded (`--rerun STATUS ...` redoes some). The report
(`<out>/report.md`, also printed) gives, per level, the share of problems with a correct offline
candidate, and the same per family (the candidate's template) and per category.

  python benchmarks/kernelbench_offline.py --kernelbench .kernelbench --levels 1 2 --jobs 2
  python benchmarks/kernelbench_offline.py --suite-dir problems/kb --out runs/kb_offline
  python benchmarks/kernelbench_offline.py --report-only --out runs/kb_offline
  python benchmarks/kernelbench_offline.py --kernelbench KB --sample benchmarks/kernelbench_gpu_sample.txt \
      --device cuda --timeout 180 --out $OUT/kb_gpu     # on the GPU host: full sizes, timed

With `--device cuda` the candidates are verified at the problem's own sizes on the GPU with timing
against eager PyTorch and torch.compile (default mode), problems run one at a time so that timings
do not share the GPU, and the report adds correct %, fast_1 against each baseline and the geometric
mean speedup of the correct candidates.

Statuses: the verdict's (correct, incorrect, compile_error, runtime_error, timeout, rejected), or
no_template (the coder has no family for it), no_cpu_shapes (the verifier would run full size),
gpu_memory (the verification does not fit in the GPU's free memory, or ran out of it: the reason
says how much it needs; no further configuration is tried), load_error, broken (not a problem
file), harness_timeout, crash.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

MARK = "KW_OFFLINE_RESULT "
GPU_MEMORY_FLAG = "gpu_memory"  # verdict flag: the verification did not fit in the GPU's memory (verifier/memory.py)
MAX_CPU_ELEMENTS = 1 << 22  # input elements of one CPU trial above which the verifier has not shrunk
CATEGORY_RULES = [  # file-name inference, first match wins (KernelBench names: 23_Softmax, 1_Conv2D_ReLU_...)
    ("attention", r"attention|attn|sdpa"),
    ("conv_transpose", r"conv_?transpose|transposed_conv|deconv"),
    ("conv", r"conv"),
    ("matmul", r"matmul|gemm|bmm|matrix|linear|_mm_|einsum|tensor_matrix"),
    ("pooling", r"pool"),
    ("loss", r"loss|hinge|kl_?div|triplet|cross_?entropy|mse|huber"),
    ("scan", r"cumsum|cumprod|scan"),
    ("norm", r"norm"),
    ("reduction", r"softmax|reduc|sum|mean|max|min|argm|prod|logsumexp"),
    ("elementwise", (r"elementwise|relu|gelu|sigmoid|tanh|swish|selu|elu|softplus|softsign|mish|hardsigmoid|"
                     r"hardswish|clamp|scal|add|mul|div|sub")),
]


# ---------------------------------------------------------------- child: one problem, one process
def category_of(path: Path, problem: Any = None) -> str:
    """The problem's category: kernelwright.tools.opgraph.analyze_problem when present, else its file name."""
    if problem is not None:
        try:
            from kernelwright.tools.opgraph import analyze_problem  # type: ignore[import-not-found]

            found = analyze_problem(problem)
            value = getattr(found, "category", None) or (found.get("category") if isinstance(found, dict) else None)
            if value:
                return str(value)
        except Exception:  # noqa: BLE001, S110 - missing or failing analysis: fall back to the name
            pass
    name = re.sub(r"^\d+_", "", path.stem).lower()
    return next((cat for cat, pattern in CATEGORY_RULES if re.search(pattern, name)), "other")


def cpu_elements(problem: Any) -> int:
    """Input elements of one CPU trial at the shapes the verifier would use (built on the meta device)."""
    import torch
    from kernelwright.verifier.inputs import base_overrides, make_inputs

    inputs = make_inputs(problem, base_overrides(problem, small=True), seed=0, device="meta")
    return sum(x.numel() for x in inputs if isinstance(x, torch.Tensor))


def verifier_shrinks(problem: Any) -> bool:
    import importlib.util

    return bool(problem.metadata.get("small_shape")) or importlib.util.find_spec("kernelwright.verifier.shrink") is not None


def one_line(text: Any) -> str:
    lines = [ln.strip() for ln in str(text or "").splitlines() if ln.strip()]
    return (lines[0] if lines else "")[:300]


def solve_direct(problem: Any, configs: int, workdir: str, device: str = "cpu") -> dict[str, Any]:
    """The template coder's first `configs` configurations, each verified on `device`; stop at the first correct.

    On the CPU: shrunken shapes, no timing. On cuda: the problem's sizes, timed against the baselines."""
    from kernelwright.agents.coder import CodeRequest
    from kernelwright.agents.template_coder import TemplateCoder

    import kernelwright

    coder, tried, out = TemplateCoder(), [], {"attempts": 0}
    for index in range(configs):
        request = CodeRequest(problem_source=problem.source, problem_name=problem.name,
                              description=problem.description, metadata=problem.metadata,
                              strategy="first_draft" if index == 0 else "tune_launch_config",
                              tried=list(tried), device=device, artifacts_dir=workdir)
        result = coder.generate(request)
        if result.source is None:
            if index == 0:
                out.update(status="no_template", reason=one_line(result.error))
            break
        out.update(family=result.meta.get("template"), config=result.meta.get("config"))
        if device == "cpu" and index == 0 and not verifier_shrinks(problem) and (n := cpu_elements(problem)) > MAX_CPU_ELEMENTS:
            return {**out, "status": "no_cpu_shapes", "cpu_elements": n,
                    "reason": f"verifier has no CPU shapes ({n:,} input elements; verifier/shrink.py missing)"}
        verdict = kernelwright.verify(problem, result.source, device=device, timing=device != "cpu")
        out.update(attempts=index + 1, status=verdict.status, stage=verdict.stage, rule=verdict.rule,
                   reason="" if verdict.correct else one_line(verdict.summary()))
        if GPU_MEMORY_FLAG in verdict.flags:  # the GPU's memory decided, not the candidate: no config fares better
            out["status"] = "gpu_memory"
            break
        if device != "cpu" and verdict.correct:
            out.update(median_ms=verdict.timing.median_ms if verdict.timing else None, timing_meaningful=verdict.timing_meaningful,
                       speedup_eager=verdict.speedups.get("eager"), speedup_compile=verdict.speedups.get("compile"))
        if verdict.correct:
            break
        tried.append(result.meta)
    return out


def solve_graph(problem: Any, iterations: int, workdir: str) -> dict[str, Any]:
    """The whole offline loop: run_graph with the template coder on the CPU."""
    import kernelwright

    if not verifier_shrinks(problem) and (n := cpu_elements(problem)) > MAX_CPU_ELEMENTS:
        return {"status": "no_cpu_shapes", "cpu_elements": n, "reason": f"verifier has no CPU shapes ({n:,} elements)"}
    result = kernelwright.run_graph(problem, iterations=iterations, coder="template", device="cpu", fanout=1,
                                    artifacts_dir=workdir, verify_options={"timing": False})
    history = result.history
    best = next((a for a in history if a.id == result.best_attempt), None) if result.solved else None
    last = best or (history[-1] if history else None)
    out = {"attempts": len(history), "family": (last.meta or {}).get("template") if last else None,
           "config": (last.meta or {}).get("config") if last else None}
    if result.solved:
        return {**out, "status": "correct", "reason": ""}
    if last is None:
        return {**out, "status": "no_template", "reason": one_line(result.error or result.stop_reason)}
    return {**out, "status": last.status, "reason": one_line(last.summary or result.error)}


def child(path: str, configs: int, graph: int | None, device: str) -> None:
    """Solve one problem and print one marked JSON line (the parent reads it)."""
    from kernelwright.verifier.problem import LoadError, load_problem

    t0 = time.time()
    record: dict[str, Any] = {}
    try:
        problem = load_problem(path)
    except LoadError as exc:
        record = {"status": "load_error", "reason": one_line(exc), "category": category_of(Path(path))}
    else:
        record["category"] = category_of(Path(path), problem)
        with tempfile.TemporaryDirectory(prefix="kw_offline_") as workdir:
            record.update(solve_graph(problem, graph, workdir) if graph
                          else solve_direct(problem, configs, workdir, device))
    record["seconds"] = round(time.time() - t0, 1)
    print(MARK + json.dumps(record, default=str), flush=True)


# ---------------------------------------------------------------- parent: suites, processes, records
def suites(args: argparse.Namespace) -> list[tuple[str, Path]]:
    """(label, folder) pairs: --kernelbench DIR --levels 1 2 -> DIR/KernelBench/level1, ...; --suite-dir DIR."""
    out = []
    if args.kernelbench:
        root = Path(args.kernelbench)
        base = root / "KernelBench" if (root / "KernelBench").is_dir() else root
        out += [(f"level{n}", base / f"level{n}") for n in args.levels]
    if args.sample and not args.kernelbench:
        sys.exit("error: --sample lists files of a KernelBench checkout: pass --kernelbench DIR too")
    out += [(Path(d).resolve().name, Path(d)) for d in args.suite_dir or []]
    for label, folder in out:
        if not folder.is_dir():
            sys.exit(f"error: {folder} is not a folder of problem files ({label}); check --kernelbench / --suite-dir")
    return out


def limit_memory(gb: float) -> None:
    """Cap this process's address space (inherited by the verifier workers it starts)."""
    import resource

    cap = int(gb * (1 << 30))
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))


def run_one(suite: str, path: str, args: argparse.Namespace) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--one", path, "--configs", str(args.configs),
           "--mem-gb", str(args.mem_gb), "--device", args.device]
    if args.graph:
        cmd += ["--graph", str(args.graph)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    if args.device == "cpu":
        env["TRITON_INTERPRET"] = "1"
    t0 = time.time()
    base = {"suite": suite, "file": Path(path).name, "path": path}
    # its own process group for killpg; its verifier workers (own sessions) exit when their pipe closes
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            start_new_session=True)
    try:
        stdout, stderr = proc.communicate(timeout=args.timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        proc.communicate()
        return {**base, "status": "harness_timeout", "category": category_of(Path(path)),
                "reason": f"no result within {args.timeout} s", "seconds": round(time.time() - t0, 1)}
    if args.device == "cuda":
        base["gpu_mib_after"] = settle_gpu()
    found = [ln[len(MARK):] for ln in stdout.splitlines() if ln.startswith(MARK)]
    if found:
        return {**base, **json.loads(found[-1])}
    tail = [ln for ln in stderr.splitlines() if ln.strip()]
    reason = f"exit {proc.returncode}: " + (tail[-1].strip()[:300] if tail else "no output")
    if proc.returncode < 0 or "MemoryError" in reason or "memory" in reason.lower():
        reason += f" (memory cap {args.mem_gb} GB)"
    return {**base, "status": "crash", "category": category_of(Path(path)), "reason": reason,
            "seconds": round(time.time() - t0, 1)}


def settle_gpu(limit_s: float = 60.0) -> int | None:
    """Wait (up to limit_s) until the GPU's used memory is back under 2 GiB, so that a problem's stray
    verifier workers cannot make the next problem run out of memory; the MiB still used, or None."""
    used = None
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        try:
            out = subprocess.run(["nvidia-smi", "--query-gpu=memory.used", "--format=csv,noheader,nounits"],
                                 capture_output=True, text=True, timeout=10, check=False).stdout
            used = int(out.split()[0])
        except (OSError, ValueError, IndexError, subprocess.TimeoutExpired):
            return None
        if used < 2048:
            break
        time.sleep(1.0)
    return used


def load_records(path: Path) -> dict[tuple[str, str], dict[str, Any]]:
    records = {}
    if path.is_file():
        for line in path.read_text().splitlines():
            if line.strip():
                rec = json.loads(line)
                records[(rec["suite"], rec["file"])] = rec  # the latest record of a problem wins
    return records


def run_all(args: argparse.Namespace, results: Path) -> None:
    from kernelwright.bench.suite import discover

    done = load_records(results)
    todo = []
    lock = threading.Lock()
    for label, folder in suites(args):
        suite = discover(folder, import_check=False)
        items = [(p.path, None) for p in suite.problems] + [(b.path, b.message) for b in suite.broken]
        if args.sample:
            wanted = sample_names(Path(args.sample), label)
            items = [it for it in items if Path(it[0]).name in wanted]
        if args.match:
            items = [it for it in items if re.search(args.match, Path(it[0]).name)]
        for path, broken in items[: args.limit]:
            rec = done.get((label, Path(path).name))
            if rec and rec["status"] not in (args.rerun or []):
                continue
            if broken:
                append(results, {"suite": label, "file": Path(path).name, "path": path, "status": "broken",
                                 "reason": one_line(broken), "category": category_of(Path(path))}, lock)
            else:
                todo.append((label, path))
    print(f"{len(todo)} problems to run ({len(done)} recorded in {results})", file=sys.stderr)

    deadline = time.monotonic() + args.stop_after if args.stop_after else None

    def work(item: tuple[str, str]) -> None:
        if deadline is not None and time.monotonic() > deadline:
            return  # not started: a later run with the same --out picks it up
        rec = run_one(*item, args)
        append(results, rec, lock)
        print(f"{rec['suite']:>8} {rec['file']:<60} {rec['status']:<15} {rec.get('family') or '-':<12} "
              f"{rec.get('seconds', 0):>6.1f}s {rec.get('reason', '')[:100]}", file=sys.stderr, flush=True)

    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        list(pool.map(work, todo))


def sample_names(sample: Path, label: str) -> set[str]:
    """File names that a sample list (lines `level1/19_ReLU.py`, # comments) picks from suite `label`."""
    if not sample.is_file():
        sys.exit(f"error: --sample {sample}: no such file")
    lines = [ln.strip() for ln in sample.read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    return {Path(ln).name for ln in lines if Path(ln).parent.name == label}


def append(results: Path, record: dict[str, Any], lock: threading.Lock) -> None:
    with lock, results.open("a") as fh:
        fh.write(json.dumps(record, default=str) + "\n")


# ---------------------------------------------------------------- report
def share(recs: list[dict[str, Any]]) -> str:
    ok = sum(r["status"] == "correct" for r in recs)
    return f"{ok}/{len(recs)} ({100 * ok / len(recs):.0f} %)" if recs else "-"


def table(title: str, key: str, by_suite: dict[str, list[dict[str, Any]]]) -> list[str]:
    lines = [f"## {title}", "", f"| suite | {key} | correct |", "|---|---|---|"]
    for suite, recs in by_suite.items():
        groups: dict[str, list] = defaultdict(list)
        for r in recs:
            groups[str(r.get(key) or "none")].append(r)
        for name, group in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
            lines.append(f"| {suite} | {name} | {share(group)} |")
    return lines + [""]


def geomean(values: list[float]) -> float:
    import math

    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else float("nan")


def timed_table(title: str, key: str | None, by_suite: dict[str, list[dict[str, Any]]]) -> list[str]:
    """Correct %, fast_1 vs eager and vs torch.compile, geomean speedup (of correct candidates), per group."""
    head = f"| suite |{f' {key} |' if key else ''} problems | correct | fast_1 vs eager | fast_1 vs compile | " \
           "geomean vs eager | geomean vs compile |"
    lines = [f"## {title}", "", head, "|---" * (head.count("|") - 1) + "|"]
    for suite, recs in by_suite.items():
        groups: dict[str, list] = defaultdict(list)
        for r in recs:
            groups[str(r.get(key) or "none") if key else ""].append(r)
        for name, group in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
            correct = [r for r in group if r["status"] == "correct"]
            cells = []
            for base in ("eager", "compile"):
                ups = [float(r[f"speedup_{base}"]) for r in correct if r.get(f"speedup_{base}")]
                cells.append((sum(u > 1.0 for u in ups), ups))
            fast = [f"{n}/{len(group)} ({100 * n / len(group):.0f} %)" for n, _ in cells]
            means = [f"{geomean(ups):.2f}x" if ups else "-" for _, ups in cells]
            lines.append(f"| {suite} |{f' {name} |' if key else ''} {len(group)} | {share(group)} | "
                         f"{fast[0]} | {fast[1]} | {means[0]} | {means[1]} |")
    return lines + [""]


def report(args: argparse.Namespace, results: Path) -> str:
    import platform

    import torch

    records = list(load_records(results).values())
    by_suite: dict[str, list] = defaultdict(list)
    for r in records:
        by_suite[r["suite"]].append(r)
    try:
        import triton
        triton_version = triton.__version__
    except ImportError:
        triton_version = "none"
    mode = f"run_graph, {args.graph} iterations" if args.graph else f"template coder, first {args.configs} configs"
    timed = any(r.get("speedup_eager") for r in records)
    where = (f"`kernelwright.verify(device=\"cuda\")` at the problems' own sizes, timed against eager and "
             f"torch.compile; {torch.cuda.get_device_name() if torch.cuda.is_available() else 'GPU'}" if timed else
             f"`kernelwright.verify(device=\"cpu\")` (Triton interpreter, shrunken shapes, no timing); "
             f"{platform.machine()} CPU")
    lines = [f"# Offline template coder on KernelBench-format problems ({'GPU' if timed else 'CPU'} verifier)", "",
             (f"Produced by `python {' '.join(sys.argv)}` on {time.strftime('%Y-%m-%d')}: {mode}, {where}; "
              f"torch {torch.__version__}, triton {triton_version}. Records: `{results}`."), "",
             "## Per suite", "", "| suite | problems | correct offline | median s |", "|---|---|---|---|"]
    for suite, recs in by_suite.items():
        secs = sorted(float(r.get("seconds") or 0) for r in recs)
        lines.append(f"| {suite} | {len(recs)} | {share(recs)} | {secs[len(secs) // 2]:.0f} |")
    if timed:
        lines += [""] + timed_table("Correctness and speed", None, by_suite)
        lines += timed_table("Correctness and speed per category", "category", by_suite)
    lines += [""] + table("Per family (template of the candidate)", "family", by_suite)
    lines += table("Per category", "category", by_suite)
    lines += ["## Statuses (count, one example reason)", "", "| suite | status | problems | example |", "|---|---|---|---|"]
    for suite, recs in by_suite.items():
        for status, count in Counter(r["status"] for r in recs).most_common():
            example = next((r for r in recs if r["status"] == status), {})
            why = f"`{example['file']}`: {example.get('reason', '')}" if status != "correct" else ""
            lines.append(f"| {suite} | {status} | {count} | {why.replace('|', '/')[:220]} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--kernelbench", help="KernelBench checkout (its KernelBench/levelN folders are the suites)")
    parser.add_argument("--levels", type=int, nargs="+", default=[1, 2], help="KernelBench levels (default 1 2)")
    parser.add_argument("--suite-dir", action="append", help="any folder of problem files (repeatable)")
    parser.add_argument("--out", default="runs/kernelbench_offline", help="folder of results.jsonl and report.md")
    parser.add_argument("--configs", type=int, default=2, help="template configurations tried per problem")
    parser.add_argument("--graph", type=int, metavar="ITERATIONS", help="run the whole offline loop instead")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per problem (default 900)")
    parser.add_argument("--mem-gb", type=float, default=8, help="address-space cap per problem process")
    parser.add_argument("--jobs", type=int, default=1, help="problems in parallel (each one process)")
    parser.add_argument("--match", help="only files whose name matches this regular expression")
    parser.add_argument("--limit", type=int, help="at most this many problems per suite")
    parser.add_argument("--stop-after", type=float, help="start no new problem after this many seconds")
    parser.add_argument("--rerun", nargs="*", help="statuses to run again (e.g. crash harness_timeout)")
    parser.add_argument("--report-only", action="store_true", help="only rebuild the report from results.jsonl")
    parser.add_argument("--sample", help="file listing the KernelBench problems to run (levelN/NAME.py per line)")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                        help="cpu: interpreter, shrunken shapes, no timing; cuda: full sizes, timed (GPU host)")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        if args.device == "cpu":  # a CUDA context reserves far more address space than it uses
            limit_memory(args.mem_gb)
        child(args.one, args.configs, args.graph, args.device)
        return
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results = out / "results.jsonl"
    if not args.report_only:
        if not (args.kernelbench or args.suite_dir):
            parser.error("pass --kernelbench DIR [--levels 1 2] or --suite-dir DIR (or --report-only)")
        run_all(args, results)
    text = report(args, results)
    (out / "report.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
