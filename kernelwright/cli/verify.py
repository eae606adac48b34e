"""`kernelwright verify PROBLEM CANDIDATE`: one verdict, as a summary or as JSON.

Exit 0 for any completed verification (whatever the status); 2 for a broken problem file, a
missing file or a bad option, with one line on stderr.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

_STYLE = {"correct": "bold green", "incorrect": "bold red", "rejected": "bold magenta",
          "compile_error": "bold yellow", "runtime_error": "bold yellow", "timeout": "bold yellow"}


def _fail(message: str) -> None:
    typer.echo(f"error: {message.splitlines()[0]}", err=True)
    raise typer.Exit(2)


def check_policy(policy: str) -> None:
    """A one-line error and exit 2 for a policy the verifier does not know."""
    from kernelwright.verifier.rules import POLICIES

    if policy not in POLICIES:
        _fail(f"--policy {policy!r}: choose one of {', '.join(POLICIES)}")


def command(
    problem: Path = typer.Argument(..., help="Problem file (KernelBench format: Model, get_inputs, ...)."),
    candidate: Path = typer.Argument(..., help="Candidate file defining ModelNew."),
    as_json: bool = typer.Option(False, "--json", help="Print the verdict record as JSON."),
    device: str = typer.Option("auto", help="auto | cpu | cpu*N | cuda | cuda:N."),
    trials: int = typer.Option(5, help="Random-input correctness trials (at least 5 are run)."),
    no_timing: bool = typer.Option(False, "--no-timing", help="Skip timing and baselines."),
    backward: bool = typer.Option(
        False, "--backward",
        help="Also verify the backward pass: gradients of every floating input and parameter against float64, "
             "forward + backward timed as one call (a problem's BACKWARD = True asks for it too)."),
    deadline_floor: float = typer.Option(
        None, "--deadline-floor", metavar="SECONDS",
        help="Least seconds a correctness or timing call may take (default: 10 on a GPU, 60 on the CPU)."),
    deadline_factor: float = typer.Option(
        1000.0, "--deadline-factor", metavar="X",
        help="A candidate call may take X times the reference's measured time (above the floor)."),
    compile_timeout: float = typer.Option(
        120.0, "--compile-timeout", metavar="SECONDS",
        help="GPU: extra seconds a call may take until its first kernel launch returns (JIT compiles)."),
    policy: str = typer.Option(
        "strict", "--policy", metavar="strict|kernelbench",
        help="strict: every compute op in the candidate's own kernels; kernelbench: PyTorch / library ops may "
             "do parts if an own kernel launches on every call (they are flagged, not rejected)."),
    verify_timeout: float = typer.Option(
        None, "--verify-timeout", metavar="SECONDS",
        help="Deadline of the whole verification, builds and waits for the GPU included "
             "(default: 600 on a GPU, 1800 on the CPU); past it the verdict is `timeout` at the stage that ran."),
) -> None:
    """Verify CANDIDATE against PROBLEM in a sandboxed worker and print the verdict.

    Deadlines: each correctness call may take max(floor, factor x the reference's measured time),
    each timing call about 45 times that; on a GPU a call may also take the compile timeout until
    its first kernel launch returns. A call past its deadline is a `timeout` verdict at its stage, and so
    is a verification still running at --verify-timeout."""
    from kernelwright.verifier.api import verify
    from kernelwright.verifier.problem import LoadError

    for path, what in ((problem, "problem"), (candidate, "candidate")):
        if not path.is_file():
            _fail(f"{path}: {what} file not found")
    if trials < 1:
        _fail(f"--trials {trials}: give a positive number of trials")
    if deadline_floor is not None and not deadline_floor > 0:
        _fail(f"--deadline-floor {deadline_floor:g}: give a positive number of seconds")
    if not deadline_factor > 0:
        _fail(f"--deadline-factor {deadline_factor:g}: give a positive factor")
    if not compile_timeout >= 0:
        _fail(f"--compile-timeout {compile_timeout:g}: give a number of seconds, 0 or more")
    check_policy(policy)
    if verify_timeout is not None and not verify_timeout > 0:
        _fail(f"--verify-timeout {verify_timeout:g}: give a positive number of seconds")
    try:
        verdict = verify(problem, candidate, device=device, trials=trials, timing=not no_timing,
                         deadline_floor_s=deadline_floor, deadline_factor=deadline_factor,
                         compile_timeout_s=compile_timeout, verify_timeout_s=verify_timeout, policy=policy,
                         backward=backward)
    except (LoadError, ValueError) as exc:
        _fail(str(exc))
    if as_json:
        sys.stdout.write(json.dumps(verdict.model_dump(mode="json"), indent=1) + "\n")
        return
    _print_summary(verdict)


def _print_summary(verdict) -> None:  # noqa: ANN001 - a Verdict
    from rich.console import Console
    from rich.table import Table

    console = Console()
    style = _STYLE.get(verdict.status, "bold")
    head = f"[{style}]{verdict.status}[/] at {verdict.stage}"
    if verdict.rule:
        head += f" [{verdict.rule}]"
    console.print(f"{head}  {verdict.problem}  ({verdict.backend or 'unknown'} backend, {verdict.elapsed_s:.1f} s)")
    if verdict.message:
        console.print(verdict.message.splitlines()[0][:300], markup=False)
    if verdict.flags:
        console.print("flags: " + ", ".join(verdict.flags), markup=False)
    if verdict.policies:
        words = {True: "passes", False: "fails", None: "not known"}
        verdicts = ", ".join(f"{name}: {words[ok]}" for name, ok in verdict.policies.items())
        console.print(f"policy {verdict.policy}; " + verdicts
                      + (f"; left in PyTorch: {', '.join(verdict.pytorch_ops[:8])}" if verdict.pytorch_ops else ""),
                      markup=False)
    if verdict.trials:
        passed = sum(t.passed for t in verdict.trials)
        worst = max((t.max_abs_err or 0.0 for t in verdict.trials), default=0.0)
        console.print(f"trials: {passed}/{len(verdict.trials)} passed, worst max abs error {worst:.3g}")
    if verdict.timing:
        table = Table("kernel", "median ms", "spread (std) ms", "n", "speedup")
        note = "" if verdict.timing_meaningful else " (not meaningful: interpreter / CPU)"
        table.add_row("candidate" + note, f"{verdict.timing.median_ms:.4f}", f"{verdict.timing.std_ms:.4f}",
                      str(verdict.timing.n), "")
        for name, stats in verdict.baselines.items():
            speedup = verdict.speedups.get(name)
            table.add_row(name, f"{stats.median_ms:.4f}", f"{stats.std_ms:.4f}", str(stats.n),
                          f"{speedup:.2f}x" if speedup else "")
        console.print(table)
    env = verdict.environment
    console.print(f"[dim]{env.device} {env.gpu_name or ''} torch {env.torch} triton {env.triton} "
                  f"python {env.python}{' interpreter' if env.interpreter else ''}[/]")
