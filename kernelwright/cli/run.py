"""`kernelwright run PROBLEM`: search for a fast verified kernel with a live progress view.

Progress comes from LangGraph streaming (custom events the nodes emit; see run_view). The best
kernel is written to `runs/<run_id>/best.py` (or --out) and its path printed. Exit 0 when a correct
kernel was found, 1 when the run ended without one, 2 for bad input or a coder failure (one line on
stderr), 130 on Ctrl-C, which stops the run at once and prints the command that resumes it.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from kernelwright.cli.llm_options import MAX_ANSWER_HELP, STALL_HELP, answer_limits
from kernelwright.cli.run_view import ProgressView, make_console
from kernelwright.interrupt import ExitOnInterrupt


def check_policy(policy: str) -> None:
    from kernelwright.cli.verify import check_policy as check

    check(policy)


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


_CLI_DEFAULTS = {"budget_s": 900.0, "max_iterations": None, "model": None, "base_url": None, "coder": "auto",
                 "device": "auto", "fanout": 2, "target_speedup": None}


def command(
    problem: Path | None = typer.Argument(None, help="Problem file (KernelBench format); optional with --resume."),
    budget: str | None = typer.Option(None, help="Wall-clock budget: seconds or 90s, 15m, 1h.  [default: 15m]"),
    iterations: int | None = typer.Option(None, help="Stop after N iterations.  [default: none, the budget alone]"),
    model: str | None = typer.Option(None, help="LLM model name (OpenAI-compatible endpoint)."),
    base_url: str | None = typer.Option(None,
                                        help="OpenAI-compatible endpoint, e.g. http://localhost:8000/v1; required with "
                                             "--coder llm (or KERNELWRIGHT_BASE_URL)."),
    coder: str | None = typer.Option(
        None, help="auto (LLM if an endpoint is configured, else template), template, llm.  [default: auto]"),
    device: str | None = typer.Option(None,
                                      help="Verifier devices: auto | cpu | cuda | cuda:0,1 | all.  [default: auto]"),
    fanout: int | None = typer.Option(None, help="Candidates per iteration.  [default: 2]"),
    target_speedup: float | None = typer.Option(None, help="Stop once the best kernel is this much faster than eager."),
    resume: str | None = typer.Option(None, "--resume",
                                      help="Continue the run with this id (after Ctrl-C, a crash or a kill)."),
    run_id: str | None = typer.Option(None, help="Id for a new run.  [default: UTC time + random suffix]"),
    artifacts: Path = typer.Option(Path("runs"), help="Folder for run artifacts and checkpoints."),
    max_answer_tokens: int | None = typer.Option(None, help=MAX_ANSWER_HELP),
    stall: str | None = typer.Option(None, help=STALL_HELP),
    out: Path | None = typer.Option(None, help="Also write the best kernel here."),
    config: Path | None = typer.Option(None, help="TOML run configuration (configs/*.toml); options given here win."),
    as_json: bool = typer.Option(False, "--json", help="Print the Result as JSON instead of a summary."),
    policy: str | None = typer.Option(None, "--policy", metavar="strict|kernelbench",
                                      help="Verifier policy (see `kernelwright verify --help`).  [default: strict]"),
    backward: bool = typer.Option(
        False, "--backward",
        help="Search for a training kernel: forward and backward, gradients verified against float64, "
             "forward + backward timed (as `kernelwright verify --backward`; a problem's BACKWARD = True asks too)."),
) -> None:
    """Search for a fast, verified kernel for PROBLEM until the budget is spent.

    Stop reasons: wall_time | iterations | tokens (a budget is spent); target_speedup (reached).

    search_exhausted: every config of the template family was tried (those attempts show as `exhausted`).

    coder_error: the coder failed (no template matches, LLM endpoint error); the message is printed.

    Exit codes: 0 a correct kernel found | 1 no correct kernel found | 2 bad input or coder failure
    (LLM endpoint, no template) | 130 Ctrl-C.
    """
    from kernelwright.config import ConfigError, load_run_config, merge_with_cli, parse_budget
    from kernelwright.run import RunError, run_graph
    from kernelwright.verifier.problem import LoadError

    try:
        file_options = answer_limits(max_answer_tokens, stall, load_run_config(config) if config is not None else {})
        cli = {"budget_s": parse_budget(budget) if budget is not None else None, "max_iterations": iterations,
               "model": model, "base_url": base_url,
               "coder": coder, "device": device, "fanout": fanout, "target_speedup": target_speedup}
    except (ConfigError, ValueError) as exc:
        _fail(str(exc))
    options = merge_with_cli(file_options, cli, _CLI_DEFAULTS)
    if policy is not None:
        check_policy(policy)
        options["verify_options"] = {**(options.get("verify_options") or {}), "policy": policy}
    if backward:
        options["verify_options"] = {**(options.get("verify_options") or {}), "backward": True}
    budget_s, iterations, fanout = options.pop("budget_s"), options.pop("max_iterations"), options.pop("fanout")
    if resume is None and problem is None:
        _fail("missing PROBLEM: pass a problem file, or --resume RUN_ID")
    if problem is not None and not problem.is_file():
        _fail(f"{problem}: problem file not found")
    if fanout < 1 or (iterations is not None and iterations < 1):
        _fail("--fanout and --iterations must be at least 1")
    view = ProgressView(make_console(stderr=True), budget_s, artifacts, quiet=as_json)
    try:
        with view, ExitOnInterrupt(artifacts / "checkpoints.sqlite", view.interrupted):
            result = run_graph(
                problem, budget_s=budget_s, iterations=iterations, fanout=fanout, run_id=resume or run_id,
                artifacts_dir=artifacts, resume=resume is not None, on_event=view, **options,
            )
    except (RunError, LoadError, ValueError, KeyError) as exc:
        _fail(str(exc).strip("'\""))
    if out is not None and result.best_source:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(result.best_source)
    if as_json:
        sys.stdout.write(result.model_dump_json(indent=1) + "\n")
    else:
        _summary(make_console(), result, out)
    if result.error:  # the coder failed (LLM endpoint, no template matches): the run could not go on
        typer.echo(f"error: {result.error} (run {result.run_id}; resume: kernelwright run --resume {result.run_id})",
                   err=True)
        raise typer.Exit(2)
    raise typer.Exit(0 if result.solved else 1)


def _summary(console: Any, result: Any, out: Path | None) -> None:
    statuses: dict[str, int] = {}
    for attempt in result.history:
        statuses[attempt.status] = statuses.get(attempt.status, 0) + 1
    console.print(f"run {result.run_id} on {result.problem}: {len(result.history)} attempts "
                  f"({', '.join(f'{n} {s}' for s, n in sorted(statuses.items()))}) in {result.elapsed_s:.1f}s; "
                  f"stopped: {result.stop_reason}")
    if result.best_verdict is None:
        console.print("no correct kernel found")
        return
    console.print(f"best: attempt {result.best_attempt}: {result.best_verdict.summary()}")
    console.print(f"best kernel written to {result.best_path}" + (f" and {out}" if out else ""))
