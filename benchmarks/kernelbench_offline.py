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
mean speedup of the correct candidates. `--tune-seconds S` goes on after the first correct configuration
while under S seconds and keeps the fastest correct one (`config_index`: its position in the walk; `walk`:
every config tried, with its status and time or reason); a problem cut off by `--timeout` mid-walk keeps
the best configuration verified before the cut.

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
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from kernelwright.bench.offline_report import report
from kernelwright.bench.offline_solve import category_of, child, marked, one_line


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
           "--mem-gb", str(args.mem_gb), "--device", args.device, "--tune-seconds", str(args.tune_seconds)]
    if args.graph:
        cmd += ["--graph", str(args.graph)]
    for name in args.family or []:
        cmd += ["--family", name]
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
        stdout, _ = proc.communicate()  # what it printed before the kill
        found = marked(stdout)
        if found and found.get("status") == "correct":  # a verified configuration is kept, the walk was cut
            return {**base, **found, "cut_off": f"tuning stopped by the {args.timeout} s harness timeout"}
        return {**base, "status": "harness_timeout", "category": category_of(Path(path)),
                "reason": f"no result within {args.timeout} s", "seconds": round(time.time() - t0, 1)}
    if args.device == "cuda":
        base["gpu_mib_after"] = settle_gpu()
    if found := marked(stdout):
        return {**base, **found}
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--kernelbench", help="KernelBench checkout (its KernelBench/levelN folders are the suites)")
    parser.add_argument("--levels", type=int, nargs="+", default=[1, 2], help="KernelBench levels (default 1 2)")
    parser.add_argument("--suite-dir", action="append", help="any folder of problem files (repeatable)")
    parser.add_argument("--out", default="runs/kernelbench_offline", help="folder of results.jsonl and report.md")
    parser.add_argument("--configs", type=int, default=2, help="template configurations tried per problem")
    parser.add_argument("--tune-seconds", type=float, default=0.0,
                        help="cuda: after the first correct config, try the next ones while under this many seconds "
                             "and keep the fastest (default 0: stop at the first correct)")
    parser.add_argument("--family", action="append",
                        help="only this template family (repeatable; default: all, in priority order)")
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
    if args.graph and args.family:
        parser.error("--family limits the template coder's first configs; --graph runs the whole loop (drop one)")
    if args.one:
        if args.device == "cpu":  # a CUDA context reserves far more address space than it uses
            limit_memory(args.mem_gb)
        child(args.one, args.configs, args.graph, args.device, tuple(args.family or ()), args.tune_seconds)
        return
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results = out / "results.jsonl"
    if not args.report_only:
        if not (args.kernelbench or args.suite_dir):
            parser.error("pass --kernelbench DIR [--levels 1 2] or --suite-dir DIR (or --report-only)")
        run_all(args, results)
    mode = f"run_graph, {args.graph} iterations" if args.graph else f"template coder, first {args.configs} configs"
    if args.tune_seconds and not args.graph:
        mode += f", fastest correct within {args.tune_seconds:g} s of tuning"
    if args.family:
        mode += f", families {', '.join(args.family)} only"
    text = report(list(load_records(results).values()), results, mode)
    (out / "report.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
