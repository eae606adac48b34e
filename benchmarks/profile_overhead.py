"""Profile each best kernel of a bench under Nsight Compute; record ncu's overhead per candidate.

    python benchmarks/profile_overhead.py --out bench_out --suite problems

Reads the kernels the bench saved (OUT/artifacts/<bench>/kernels/<problem>.py), profiles each
against SUITE/<problem>.py with `kernelwright.tools.profile.profile_candidate`, and writes
OUT/profiles/<problem>.json plus OUT/profile_overhead.json (overhead = ncu wall - plain wall).
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from kernelwright.tools.profile import profile_candidate


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default="bench_out")
    parser.add_argument("--suite", default="problems")
    parser.add_argument("--calls", type=int, default=3)
    args = parser.parse_args()
    out = Path(args.out)
    (out / "profiles").mkdir(parents=True, exist_ok=True)
    rows = []
    for kernel in sorted(out.glob("artifacts/*/kernels/*.py")):
        problem = Path(args.suite) / (kernel.stem.replace("__", "/") + ".py")
        t0 = time.time()
        result = profile_candidate(problem, kernel, calls=args.calls)
        total = time.time() - t0
        (out / "profiles" / f"{kernel.stem}.json").write_text(json.dumps(result, indent=1, default=str))
        rows.append({"problem": kernel.stem, "source": result.get("source"), "overhead_s": result.get("overhead_s"),
                     "ncu_s": result.get("ncu_s"), "plain_s": result.get("driver_s"), "total_s": total,
                     "diagnosis": result.get("diagnosis"), "error": result.get("error")})
        print(f"{kernel.stem}: {result.get('source')} overhead {result.get('overhead_s')} s; {result.get('diagnosis')}", flush=True)
    overheads = [r["overhead_s"] for r in rows if r["overhead_s"] is not None]
    summary = {"profiled": len(rows), "with_ncu": len(overheads),
               "overhead_s_median": statistics.median(overheads) if overheads else None,
               "overhead_s_mean": statistics.fmean(overheads) if overheads else None, "rows": rows}
    (out / "profile_overhead.json").write_text(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
