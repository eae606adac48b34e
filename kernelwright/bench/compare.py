"""Side-by-side comparison of two benches in the same store: per problem and totals."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from kernelwright.bench.metrics import summarize
from kernelwright.bench.store import BenchStore
from kernelwright.bench.tables import Table, fmt, pct


def _verdict(row: dict[str, Any] | None) -> str:
    if row is None:
        return "absent"
    if row["status"] != "done":
        return row["status"]
    return "correct" if row["solved"] else (row["best_status"] or "unsolved")


def _ratio(a: float | None, b: float | None) -> float | None:
    return b / a if a and b else None


def compare(db: str, bench_a: str, bench_b: str) -> tuple[Table, Table, dict[str, Any]]:
    """(per-problem table, totals table, JSON-able data) comparing bench A with bench B."""
    store = BenchStore(db)
    for bench_id in (bench_a, bench_b):
        if store.bench(bench_id) is None:
            known = ", ".join(store.bench_ids()) or "none"
            store.close()
            raise KeyError(f"no bench {bench_id!r} in {db}; known: {known}")
    rows_a = {r["problem"]: r for r in store.problems(bench_a)}
    rows_b = {r["problem"]: r for r in store.problems(bench_b)}
    store.close()
    per = Table(f"Per problem: A={bench_a}  B={bench_b}",
                ["problem", "A", "B", "A x eager", "B x eager", "B/A", "change"])
    data: dict[str, Any] = {"a": bench_a, "b": bench_b, "problems": []}
    for key in list(rows_a) + [k for k in rows_b if k not in rows_a]:
        a, b = rows_a.get(key), rows_b.get(key)
        sa = a["speedup_eager"] if a and a["solved"] else None
        sb = b["speedup_eager"] if b and b["solved"] else None
        solved_a, solved_b = bool(a and a["solved"]), bool(b and b["solved"])
        change = "newly solved" if solved_b and not solved_a else "lost" if solved_a and not solved_b else ""
        ratio = _ratio(sa, sb)
        if not change and ratio is not None:
            change = "faster" if ratio > 1.05 else "slower" if ratio < 0.95 else "same"
        per.rows.append([key, _verdict(a), _verdict(b), sa, sb, ratio, change])
        data["problems"].append({"problem": key, "a": _verdict(a), "b": _verdict(b), "speedup_a": sa, "speedup_b": sb,
                                 "ratio": ratio, "change": change})
    ma, mb = summarize(rows_a.values()), summarize(rows_b.values())
    totals = Table("Totals", ["metric", "A", "B"], [
        ["problems", ma.problems, mb.problems],
        ["correct", f"{ma.correct} ({pct(ma.correct_rate)})", f"{mb.correct} ({pct(mb.correct_rate)})"],
        *[[f"fast_{p} vs eager", pct(ma.fast_p["eager"][p]), pct(mb.fast_p["eager"][p])] for p in ("1", "1.5", "2")],
        *[[f"fast_{p} vs compile", pct(ma.fast_p["compile"][p]), pct(mb.fast_p["compile"][p])] for p in ("1", "2")],
        ["geomean x eager", fmt(ma.geomean_speedup["eager"]), fmt(mb.geomean_speedup["eager"])],
        ["median time to first correct (s)", fmt(ma.time_to_first_correct_s.get("median"), 1),
         fmt(mb.time_to_first_correct_s.get("median"), 1)],
    ])
    data["totals"] = {"a": ma.model_dump(), "b": mb.model_dump()}
    return per, totals, data


def write_compare(db: str, bench_a: str, bench_b: str, out_dir: str | Path) -> dict[str, str]:
    """compare.md with both tables and compare.png with both solve curves overlaid."""
    from kernelwright.bench.scaling import curves, plot_scaling
    from kernelwright.bench.tables import to_markdown

    per, totals, _ = compare(db, bench_a, bench_b)
    store = BenchStore(db)
    sets = {}
    for bench_id in (bench_a, bench_b):
        budget = (store.bench(bench_id) or {}).get("config", {}).get("budget_s")
        sets[bench_id] = curves(store.problems(bench_id), store.attempts(bench_id), budget)
    store.close()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    plot = plot_scaling(sets, out / "compare.png", f"Solved vs budget: {bench_a} vs {bench_b}")
    text = (f"# kernelwright bench comparison: A={bench_a}, B={bench_b}\n\n{to_markdown(per)}\n{to_markdown(totals)}\n"
            "![solved vs budget](compare.png)\n")
    (out / "compare.md").write_text(text)
    return {"markdown": str(out / "compare.md"), "plot": plot}
