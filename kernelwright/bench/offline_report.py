"""The report of an offline KernelBench-format run: per suite, family and category; timed tables on a GPU."""
from __future__ import annotations

import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any


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


def report(records: list[dict[str, Any]], results: Path, mode: str) -> str:
    """The markdown report of a results.jsonl (`mode` says how the candidates were made)."""
    import platform

    import torch

    by_suite: dict[str, list] = defaultdict(list)
    for r in records:
        by_suite[r["suite"]].append(r)
    try:
        import triton
        triton_version = triton.__version__
    except ImportError:
        triton_version = "none"
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
    lines += ["## Statuses (count, one example reason)", "", "| suite | status | problems | example |",
              "|---|---|---|---|"]
    for suite, recs in by_suite.items():
        for status, count in Counter(r["status"] for r in recs).most_common():
            example = next((r for r in recs if r["status"] == status), {})
            why = f"`{example['file']}`: {example.get('reason', '')}" if status != "correct" else ""
            lines.append(f"| {suite} | {status} | {count} | {why.replace('|', '/')[:220]} |")
    return "\n".join(lines) + "\n"
