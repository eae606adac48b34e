"""Print a markdown summary of a GPU bench run (bench.json, profile_overhead.json, versions)."""
from __future__ import annotations

import json
import sys
from pathlib import Path


def pct(value):
    return "-" if value is None else f"{100 * value:.1f}%"


def main(out: str) -> None:
    root = Path(out)
    bench = json.loads((root / "bench.json").read_text()) if (root / "bench.json").is_file() else None
    prof = json.loads((root / "profile_overhead.json").read_text()) if (root / "profile_overhead.json").is_file() else None
    gpu = ((root / "gpu.txt").read_text().strip() if (root / "gpu.txt").is_file() else "") or "unknown GPU"
    print(f"# GPU bench summary ({gpu})\n")
    if not bench:
        print("bench.json missing: the bench did not finish (see bench.log)")
        return
    m, s = bench["metrics"], bench["stats"]
    g = s.get("gpu") or {}
    print(f"- bench `{bench['bench_id']}`: {m['problems']} problems, ran {len(bench['ran'])}, skipped {len(bench['skipped'])}, broken {len(bench['broken'])}")
    print(f"- correct {m['correct']}/{m['problems']} ({pct(m['correct_rate'])}); fast_1 eager {pct(m['fast_p']['eager']['1'])}, "
          f"fast_1 compile {pct(m['fast_p']['compile']['1'])}; geomean x eager {m['geomean_speedup']['eager']}")
    print(f"- wall {bench['wall_s']:.1f} s; candidates verified {s.get('candidates')} ({s.get('candidates_per_minute')} per minute)")
    print(f"- worker busy share {pct(s.get('worker_busy_share'))}; GPU busy share (nvidia-smi mean utilization) "
          f"{pct(g.get('mean_busy_share')) if g.get('available') else 'not sampled'}")
    for idx, info in (g.get("per_gpu") or {}).items():
        print(f"  - GPU {idx}: {pct(info['busy_share'])} over {info['samples']} samples")
    if prof:
        print(f"- ncu: {prof['with_ncu']}/{prof['profiled']} candidates profiled with ncu; overhead per candidate "
              f"median {prof['overhead_s_median']} s, mean {prof['overhead_s_mean']} s")
    print(f"- report: {root / 'report' / 'report.md'}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "bench_out")
