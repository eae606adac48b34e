"""Markdown and HTML report of one bench: summary, fast_p, per-problem table, scaling plot, kernels."""
from __future__ import annotations

import datetime as dt
import html
import json
import shutil
from pathlib import Path
from typing import Any

from kernelwright.bench.metrics import BenchMetrics, summarize
from kernelwright.bench.scaling import curves, plot_scaling
from kernelwright.bench.store import BenchStore
from kernelwright.bench.tables import Table, fmt, pct, to_html, to_markdown

CSS = "body{font-family:sans-serif;max-width:1100px;margin:2em auto}table{border-collapse:collapse;margin:1em 0}" \
      "td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px}th{background:#eee}.note{color:#555;font-size:12px}"


def summary_table(m: BenchMetrics, stats: dict[str, Any] | None = None) -> Table:
    rows = [
        ["problems", m.problems], ["correct", f"{m.correct} ({pct(m.correct_rate)})"], ["run errors", m.errors],
        ["solved with meaningful timing", m.timed], ["attempts", m.attempts],
        ["geomean speedup vs eager", fmt(m.geomean_speedup.get("eager"))],
        ["geomean speedup vs torch.compile", fmt(m.geomean_speedup.get("compile"))],
        ["time to first correct (median / max s)",
         f"{fmt(m.time_to_first_correct_s.get('median'), 1)} / {fmt(m.time_to_first_correct_s.get('max'), 1)}"],
        ["time to best (median / max s)",
         f"{fmt(m.time_to_best_s.get('median'), 1)} / {fmt(m.time_to_best_s.get('max'), 1)}"],
    ]
    if stats:
        gpu = stats.get("gpu") or {}
        rows += [
            ["wall time of last session, bench workers' start-up included (s)", fmt(stats.get("wall_s"), 1)],
            ["problems per minute", fmt(stats.get("problems_per_minute"))],
            ["candidates verified per minute", fmt(stats.get("candidates_per_minute"))],
            ["run in flight share (per worker)", pct(stats.get("worker_busy_share"))],
            ["verifier busy share (verification in flight on the device)", pct(stats.get("verifier_busy_share"))],
            [gpu_label(gpu), pct(gpu.get("mean_busy_share")) if gpu.get("available") else "not sampled"],
        ]
    return Table("Summary", ["metric", "value"], rows)


def gpu_label(gpu: dict[str, Any]) -> str:
    """The GPU busy row's label: how it was sampled, or why it was not."""
    if not gpu.get("available"):
        return "GPU kernel-active share (utilization.gpu; neither NVML nor nvidia-smi found)"
    return f"GPU kernel-active share ({gpu.get('method', 'nvml')} utilization.gpu)"


def fast_p_table(m: BenchMetrics) -> Table:
    keys = ["0", "1", "1.5", "2"]
    rows = [[name, *(pct(m.fast_p.get(base, {}).get(k)) for k in keys)]
            for base, name in (("eager", "eager"), ("compile", "torch.compile"))]
    return Table("fast_p (share of all problems correct and more than p times faster)",
                 ["baseline", *(f"fast_{k}" for k in keys)], rows,
                 note="Failures count as not fast; on CPU (no meaningful timing) only fast_0 can be non-zero.")


def problem_table(rows: list[dict[str, Any]], kernels_rel: dict[str, str]) -> Table:
    out = Table("Per problem", ["problem", "status", "correct", "x eager", "x compile", "best ms", "first correct s",
                                "best s", "run s", "attempts", "category", "worker", "kernel", "error"])
    for r in rows:
        out.rows.append([
            r["problem"], r["best_status"] if r["status"] == "done" else r["status"], bool(r["solved"]),
            r["speedup_eager"], r["speedup_compile"], fmt(r["best_median_ms"], 4) if r["timing_meaningful"] else "-",
            fmt(r["time_to_first_correct"], 1), fmt(r["time_to_best"], 1), fmt(r.get("elapsed_s"), 1),
            r["n_attempts"], r.get("category") or "-", r["worker"],
            kernels_rel.get(r["problem"], "-"), (r["error"] or "")[:120],
        ])
    return out


def category_table(rows: list[dict[str, Any]]) -> Table:
    """Correct share and geomean speedup vs eager per problem category (the problem analysis's)."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault(r.get("category") or "not captured", []).append(r)
    out = Table("Per category", ["category", "problems", "correct", "geomean x eager"])
    for name, group in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        m = summarize(group)
        out.rows.append([name, m.problems, f"{m.correct} ({pct(m.correct_rate)})", fmt(m.geomean_speedup.get("eager"))])
    return out


def policy_table(rows: list[dict[str, Any]], judged_under: str) -> Table:
    """Problems with a correct kernel under each verifier policy, from every attempt's verdict."""
    out = Table("Per policy", ["policy", "correct", "not correct", "not known"],
                note=(f"The runs were judged under `{judged_under}`. Under strict, a candidate stopped at a rule that "
                      "kernelbench only flags leaves kernelbench's answer open; `--policy kernelbench` knows both."))
    for name in ("strict", "kernelbench"):
        values = [r.get(f"correct_{name}") for r in rows if r.get("status") == "done"]
        out.rows.append([name, sum(v == 1 for v in values), sum(v == 0 for v in values),
                         sum(v is None for v in values)])
    return out


def provenance(bench: dict[str, Any]) -> str:
    cfg, env = bench["config"], bench["environment"]
    command = f"kernelwright bench {cfg.get('suite_dir')} --coder {cfg.get('coder')} --budget {cfg.get('budget_s'):g}s"
    command += f" --iterations {cfg['iterations']}" if cfg.get("iterations") else ""
    command += f" --ray {cfg['ray']}" if cfg.get("ray") else f" --devices {cfg.get('devices')}"
    command += f" --policy {cfg['policy']}" if cfg.get("policy", "strict") != "strict" else ""
    env_text = ", ".join(f"{k} {v}" for k, v in env.items())
    created = dt.datetime.fromtimestamp(bench["created_at"], dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"Produced by `{command}` (bench `{bench['bench_id']}`, started {created}); {env_text}."


def write_report(db: str | Path, bench_id: str, out_dir: str | Path) -> dict[str, str]:
    """Write report.md, report.html, scaling.png, metrics.json and kernels/ into `out_dir`."""
    store = BenchStore(db)
    bench = store.bench(bench_id)
    if bench is None:
        known = ", ".join(store.bench_ids()) or "none"
        store.close()
        raise KeyError(f"no bench {bench_id!r} in {db}; known: {known}")
    rows, attempts = store.problems(bench_id), store.attempts(bench_id)
    broken, sessions = store.broken(bench_id), store.sessions(bench_id)
    store.close()
    out = Path(out_dir)
    (out / "kernels").mkdir(parents=True, exist_ok=True)
    kernels_rel: dict[str, str] = {}
    for r in rows:
        if r["best_kernel_path"] and Path(r["best_kernel_path"]).is_file():
            target = out / "kernels" / Path(r["best_kernel_path"]).name
            shutil.copyfile(r["best_kernel_path"], target)
            kernels_rel[r["problem"]] = f"kernels/{target.name}"
    metrics = summarize(rows)
    stats = None
    if sessions:
        last = sessions[-1]
        stats = {**last["stats"], "wall_s": last["finished_at"] - last["started_at"]}
    budget = bench["config"].get("budget_s")
    plot = plot_scaling({bench_id: curves(rows, attempts, budget)}, out / "scaling.png",
                        f"Solved vs budget per problem ({bench_id})", caption=provenance(bench)[:300])
    tables = [summary_table(metrics, stats), fast_p_table(metrics), category_table(rows),
              policy_table(rows, bench["config"].get("policy", "strict")), problem_table(rows, kernels_rel)]
    if broken:
        tables.append(Table("Broken problem files (skipped)", ["file", "reason"],
                            [[b["path"], b["message"]] for b in broken]))
    intro = provenance(bench)
    md = [f"# kernelwright bench report: {bench_id}", "", intro, ""]
    md += [to_markdown(t) for t in tables]
    md += ["### Inference-time scaling", "", "![solved vs budget](scaling.png)", ""]
    (out / "report.md").write_text("\n".join(md))
    body = "".join(to_html(t) for t in tables)
    page = ("<!doctype html><html><head><meta charset='utf-8'>"
            f"<title>{html.escape(bench_id)}</title><style>{CSS}</style></head>"
            f"<body><h1>kernelwright bench report: {html.escape(bench_id)}</h1><p>{html.escape(intro)}</p>{body}"
            f"<h3>Inference-time scaling</h3><img src='scaling.png' alt='solved vs budget'></body></html>")
    (out / "report.html").write_text(page)
    (out / "metrics.json").write_text(json.dumps({"bench_id": bench_id, "metrics": metrics.model_dump(),
                                                  "session": stats,
                                                  "problems": rows, "broken": broken}, indent=1, default=str))
    return {"markdown": str(out / "report.md"), "html": str(out / "report.html"), "plot": plot,
            "metrics": str(out / "metrics.json"), "kernels": str(out / "kernels")}
