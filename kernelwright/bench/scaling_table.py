"""Markdown table of a scaling sweep written by benchmarks/bench_scaling_gpu.sh: DIR/<mode>-<n>.json per run.

Throughput is candidates verified per minute of bench wall time; "x of 1" divides by the
1-device run of the same mode and "per device" divides that by the device count (target >= 0.9).
"""
from __future__ import annotations

import json
from pathlib import Path


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.0f}%"


def rows(folder: str | Path, mode: str) -> list[dict]:
    """One dict per finished run of `mode`, sorted by device count."""
    out = []
    for path in Path(folder).glob(f"{mode}-*.json"):
        count = path.stem.rsplit("-", 1)[-1]
        if not count.isdigit() or not path.stat().st_size:
            continue
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError:
            continue
        stats = data.get("stats") or {}
        out.append({"mode": mode, "devices": int(count), "wall_s": data.get("wall_s"),
                    "ran": len(data.get("ran") or []),
                    "rate": stats.get("candidates_per_minute"), "verifier": stats.get("verifier_busy_share"),
                    "kernel_active": (stats.get("gpu") or {}).get("mean_busy_share")})
    out.sort(key=lambda r: r["devices"])
    base = next((r["rate"] for r in out if r["devices"] == 1 and r["rate"]), None)
    for r in out:
        r["speedup"] = r["rate"] / base if base and r["rate"] else None
        r["efficiency"] = r["speedup"] / r["devices"] if r["speedup"] else None
    return out


def _num(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def table(folder: str | Path, mode: str) -> str:
    lines = ["| mode | devices | wall s | problems run | candidates/min | x of 1 device | per-device efficiency | "
             "verifier busy share | GPU kernel-active share |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rows(folder, mode):
        cells = [r["mode"], r["devices"], _num(r["wall_s"], 1), r["ran"], _num(r["rate"], 1), _num(r["speedup"], 2),
                 _num(r["efficiency"], 2), _pct(r["verifier"]), _pct(r["kernel_active"])]
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"
