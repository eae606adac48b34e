"""The markdown summary of a GPU bench (bench.json, profile_overhead.json, env.txt in WORK)."""
from __future__ import annotations

import json
from pathlib import Path

from kernelwright.bench.tables import pct


def num(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _load(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text()) if path.is_file() and path.stat().st_size else None
    except json.JSONDecodeError:
        return None


def summary(work: str | Path) -> str:
    """The SUMMARY.md text for the bench folder `work`."""
    root = Path(work)
    bench, prof = _load(root / "bench.json"), _load(root / "profile_overhead.json")
    env = (root / "env.txt").read_text().strip() if (root / "env.txt").is_file() else "environment not recorded"
    lines = ["# GPU bench summary", "", "```", env, "```", ""]
    if not bench:
        lines.append("- bench.json missing or empty: the bench did not finish (see bench.log in the archive)")
    else:
        m, s = bench["metrics"], bench["stats"]
        g, v = s.get("gpu") or {}, s.get("verifier_busy") or {}
        lines += [
            f"- bench `{bench['bench_id']}`: {m['problems']} problems; ran {len(bench['ran'])}, skipped "
            "(finished earlier) "
            f"{len(bench['skipped'])}, not started (time limit) {len(bench.get('not_started', []))}, broken files "
            f"{len(bench['broken'])}",
            f"- correct {m['correct']}/{m['problems']} ({pct(m['correct_rate'])}); fast_1 vs eager "
            f"{pct(m['fast_p']['eager']['1'])}, "
            f"vs torch.compile {pct(m['fast_p']['compile']['1'])}; geomean x eager "
            f"{num(m['geomean_speedup']['eager'], 2)}",
            f"- wall {num(bench['wall_s'])} s; candidates verified {s.get('candidates')} "
            f"({num(s.get('candidates_per_minute'))} per minute)",
            "- verifier busy share (verification in flight on the device / wall): "
            f"{pct(s.get('verifier_busy_share'))}; "
            f"judges' own time {num(s.get('verifier_judge_s'))} s",
        ]
        for dev, share in (v.get("per_device") or {}).items():
            lines.append(f"  - {dev}: {pct(share)} ({num((v.get('busy_s') or {}).get(dev))} s busy)")
        if g.get("available"):
            lines.append(f"- GPU kernel-active share ({g.get('method')} utilization.gpu, every "
                         f"{g.get('interval_ms')} ms): "
                         f"{pct(g.get('mean_busy_share'))}")
            for idx, info in (g.get("per_gpu") or {}).items():
                lines.append(f"  - GPU {idx}: {pct(info['busy_share'])} over {info['samples']} samples")
        else:
            lines.append("- GPU kernel-active share: not sampled (no NVML, no nvidia-smi)")
        lines.append(f"- run in flight share per worker: {pct(s.get('worker_busy_share'))}")
    if prof:
        lines.append(f"- ncu ({prof.get('ncu') or 'not found'}): {prof['with_ncu']}/{prof['profiled']} kernels "
                     "profiled with ncu; "
                     f"overhead per candidate median {num(prof['overhead_s_median'])} s, mean "
                     f"{num(prof['overhead_s_mean'])} s; "
                     f"not profiled: {', '.join(prof.get('not_profiled') or []) or 'none'}")
        for row in prof["rows"]:
            lines.append(f"  - {row['problem']}: {row['source']}, overhead {num(row['overhead_s'])} s; "
                         f"{row['error'] or row['diagnosis']}")
    else:
        lines.append("- ncu overhead: not measured (profile step did not run or wrote nothing)")
    report = root / "report" / "report.md"
    if report.is_file():
        lines += ["", "## Report (report/report.md in the archive)", "", report.read_text()]
    return "\n".join(lines) + "\n"
