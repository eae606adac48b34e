"""Profile best kernels of a bench under Nsight Compute; record ncu's overhead per candidate.

    python benchmarks/profile_overhead.py --work bench_work --suite problems --limit 3 --time-limit 60

Reads the kernels the bench saved (WORK/artifacts/<bench>/kernels/<problem>.py), profiles each
against SUITE/<problem>.py with `kernelwright.verifier.profile.ncu.profile_candidate`, and writes
WORK/profiles/<problem>.json and WORK/profile_overhead.json, the latter rewritten after every
candidate so that a time box that cuts the step keeps what was measured.
overhead = (ncu profiling run + report import) - the same driver run without ncu.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from kernelwright.verifier.profile.ncu import find_ncu, profile_candidate


def summarize(rows: list[dict], ncu: str | None, skipped: list[str]) -> dict:
    overheads = [r["overhead_s"] for r in rows if r["overhead_s"] is not None]
    return {"ncu": ncu, "profiled": len(rows), "with_ncu": len(overheads), "not_profiled": skipped,
            "overhead_s_median": statistics.median(overheads) if overheads else None,
            "overhead_s_mean": statistics.fmean(overheads) if overheads else None, "rows": rows}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--work", default="bench_work", help="folder the bench wrote (artifacts/ inside)")
    parser.add_argument("--suite", default="problems")
    parser.add_argument("--calls", type=int, default=3)
    parser.add_argument("--limit", type=int, default=0, help="profile at most this many kernels (0: all)")
    parser.add_argument("--time-limit", type=float, default=0.0,
                        help="start no candidate after this many seconds (0: none)")
    parser.add_argument("--timeout", type=float, default=120.0, help="limit of each ncu or driver run (s)")
    args = parser.parse_args()
    work = Path(args.work)
    (work / "profiles").mkdir(parents=True, exist_ok=True)
    kernels = sorted(work.glob("artifacts/*/kernels/*.py"))
    chosen = kernels[: args.limit] if args.limit else kernels
    skipped = [k.stem for k in kernels if k not in chosen]
    ncu = find_ncu()
    print(f"ncu: {ncu or 'not found (compile metadata only)'}; {len(kernels)} kernel(s), profiling {len(chosen)}",
          flush=True)
    rows: list[dict] = []
    start = time.time()
    for i, kernel in enumerate(chosen):
        if args.time_limit and time.time() - start > args.time_limit:
            skipped += [k.stem for k in chosen[i:]]
            print(f"time limit {args.time_limit:.0f} s reached: {len(chosen) - i} kernel(s) not profiled", flush=True)
            break
        problem = Path(args.suite) / (kernel.stem.replace("__", "/") + ".py")
        t0 = time.time()
        result = profile_candidate(problem, kernel, calls=args.calls, timeout_s=args.timeout)
        total = time.time() - t0
        (work / "profiles" / f"{kernel.stem}.json").write_text(json.dumps(result, indent=1, default=str))
        rows.append({"problem": kernel.stem, "source": result.get("source"), "overhead_s": result.get("overhead_s"),
                     "ncu_s": result.get("ncu_s"), "plain_s": result.get("driver_s"), "total_s": total,
                     "diagnosis": result.get("diagnosis"), "error": result.get("error")})
        (work / "profile_overhead.json").write_text(json.dumps(summarize(rows, ncu, skipped), indent=1))
        overhead = result.get("overhead_s")
        print(f"{kernel.stem}: {result.get('source')}, overhead "
              f"{overhead if overhead is None else round(overhead, 1)} s, "
              f"total {total:.1f} s; {result.get('diagnosis')}", flush=True)
    (work / "profile_overhead.json").write_text(json.dumps(summarize(rows, ncu, skipped), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
