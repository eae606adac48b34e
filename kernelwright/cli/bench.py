"""`kernelwright bench SUITE_DIR`: run the graph over a suite, store results, report, compare."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.console import Console

from kernelwright.config import parse_budget


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def command(
    suite_dir: Path | None = typer.Argument(None, help="Folder of KernelBench-format problem files."),
    budget: str = typer.Option("2m", help="Budget per problem: seconds or 90s, 2m, 1h."),
    iterations: int | None = typer.Option(None, help="Iteration cap per problem (default: budget only)."),
    coder: str = typer.Option("template", help="Coder: template (offline) or an LLM coder name."),
    devices: str = typer.Option("auto", help="auto | cpu | cpu*N | cuda | cuda:0,1 (one bench worker per device)."),
    runs_per_device: int = typer.Option(1,
                                        help="Runs sharing each device's bench worker and its verifier workers "
                                             "(overlaps coder time)."),
    ray: str | None = typer.Option(None, "--ray", help="Spread over a Ray cluster: auto | local | ADDRESS."),
    ray_gpus: int | None = typer.Option(None, help="With --ray local: GPUs to declare (fake ones on a CPU host)."),
    db: Path = typer.Option(Path("runs/bench.sqlite"), help="SQLite file of results (resumable)."),
    bench_id: str | None = typer.Option(None, help="Bench id (default from suite, coder and budget)."),
    artifacts: Path = typer.Option(Path("runs/bench"), help="Folder for run artifacts and best kernels."),
    report: Path | None = typer.Option(None, help="Write a markdown + HTML report into this folder."),
    compare: tuple[str, str] | None = typer.Option(None, help="Compare two bench ids of --db: A B."),
    retry_errors: bool = typer.Option(False, help="Re-run problems whose run failed with an error."),
    max_wall: str | None = typer.Option(None,
                                        help="Start no new problem after this long (e.g. 2m); the rest stay "
                                             "pending for a re-run."),
    run_fn: str = typer.Option("kernelwright.run:run_graph", hidden=True, help="module:function run per problem."),
    workers: str = typer.Option("process", hidden=True, help="Local worker kind: process or thread."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document instead of tables."),
    policy: str = typer.Option("strict", "--policy", metavar="strict|kernelbench",
                               help="Verifier policy of every run (see `kernelwright verify --help`)."),
) -> None:
    """Run run_graph on every problem of SUITE_DIR with a budget each; re-runs skip finished problems."""
    console = Console(stderr=as_json)
    console.soft_wrap = not console.is_terminal  # piped: one line per message, never wrapped at 80 columns
    if compare:
        _compare(str(db), compare, as_json, console, report)
        return
    if suite_dir is None:
        _fail("missing SUITE_DIR; pass a folder of problem files (or --compare A B)")
    from kernelwright.bench.devices import DeviceError
    from kernelwright.bench.runner import BenchConfig, run_bench
    from kernelwright.verifier.problem import LoadError

    try:
        budget_s = parse_budget(budget)
    except ValueError as exc:
        _fail(str(exc))
    try:
        max_wall_s = parse_budget(max_wall) if max_wall else None
    except ValueError:
        _fail(f"--max-wall {max_wall!r}: use seconds or a duration like 90s or 2m")
    from kernelwright.cli.verify import check_policy

    check_policy(policy)
    config = BenchConfig(
        suite_dir=str(suite_dir), budget_s=budget_s, iterations=iterations, coder=coder, devices=devices,
        ray=ray, ray_init={"num_gpus": ray_gpus} if ray_gpus is not None and ray == "local" else {},
        db=str(db), bench_id=bench_id, artifacts_dir=str(artifacts), run_fn=run_fn, worker_mode=workers,
        retry_errors=retry_errors, runs_per_device=runs_per_device, max_wall_s=max_wall_s,
        policy=policy,
    )
    from kernelwright.bench.progress import BenchProgress

    try:
        with BenchProgress(console, quiet=False) as progress:
            outcome = run_bench(config, on_event=progress.event)
    except (LoadError, DeviceError, ValueError) as exc:
        _fail(str(exc).splitlines()[0])
    except KeyboardInterrupt:
        typer.echo(f"interrupted; re-run the same command to resume bench {config.resolved_bench_id()}", err=True)
        raise typer.Exit(130) from None
    paths = None
    if report is not None:
        from kernelwright.bench.report import write_report

        paths = write_report(config.db, outcome.bench_id, report)
    if as_json:
        data = outcome.model_dump()
        data["report"] = paths
        sys.stdout.write(json.dumps(data, indent=1, default=str) + "\n")
        return
    from kernelwright.bench.report import fast_p_table, summary_table
    from kernelwright.bench.tables import to_rich

    console.print(to_rich(summary_table(outcome.metrics, {**outcome.stats, "wall_s": outcome.wall_s})))
    console.print(to_rich(fast_p_table(outcome.metrics)))
    late = f", {len(outcome.not_started)} not started (--max-wall; re-run to resume)" if outcome.not_started else ""
    console.print(f"bench {outcome.bench_id}: ran {len(outcome.ran)}, skipped {len(outcome.skipped)} finished, "
                  f"{len(outcome.broken)} broken file(s){late}; results in {config.db}")
    if paths:
        console.print(f"report: {paths['markdown']} and {paths['html']}")


def _compare(db: str, ids: tuple[str, str], as_json: bool, console: Console, report: Path | None) -> None:
    from kernelwright.bench.compare import compare, write_compare
    from kernelwright.bench.tables import to_rich

    if not Path(db).is_file():
        _fail(f"{db}: results database not found; pass --db with the file the benches wrote")
    try:
        per, totals, data = compare(db, *ids)
    except KeyError as exc:
        _fail(str(exc.args[0]))
    if report is not None:
        data["report"] = write_compare(db, *ids, report)
    if as_json:
        sys.stdout.write(json.dumps(data, indent=1, default=str) + "\n")
        return
    console.print(to_rich(per))
    console.print(to_rich(totals))
