"""`kernelwright profile PROBLEM CANDIDATE`: Nsight Compute figures and a diagnosis in words."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import typer


def command(
    problem: Path = typer.Argument(..., help="Problem file (KernelBench format)."),
    candidate: Path = typer.Argument(..., help="Candidate file defining ModelNew."),
    device: str = typer.Option("auto", help="auto | cuda | cuda:N | cpu."),
    calls: int = typer.Option(3, help="Profiled calls after one warm-up call."),
    ncu: str = typer.Option("auto", help="Path of ncu, or auto to search PATH and /usr/local/cuda."),
    as_json: bool = typer.Option(False, "--json", help="Print the profile as JSON."),
) -> None:
    """Profile CANDIDATE on PROBLEM and print the figures and the diagnosis the critic receives.

    The candidate runs in the verifier's sandbox (scrubbed environment, namespaces, rlimits), with
    ncu wrapped around it."""
    from kernelwright.verifier.problem import LoadError
    from kernelwright.verifier.profile.ncu import profile_candidate

    try:
        result = profile_candidate(problem, candidate, device=device, ncu=ncu, calls=calls)
    except (LoadError, ValueError) as exc:  # a missing file, or a device that is not there
        typer.echo(f"error: {str(exc).splitlines()[0]}", err=True)
        raise typer.Exit(2) from None
    if as_json:
        sys.stdout.write(json.dumps(result, indent=1, default=str) + "\n")
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(f"[bold]profile[/] ({result['source']}): {result['diagnosis']}")
    figures = {k: v for k, v in result.get("figures", {}).items() if not isinstance(v, list)}
    if figures:
        table = Table("figure", "value")
        for key, value in figures.items():
            table.add_row(key, f"{value:.4g}" if isinstance(value, float) else str(value))
        console.print(table)
    if result.get("overhead_s") is not None:
        console.print(f"ncu overhead {result['overhead_s']:.1f} s over a plain run of {result['driver_s']:.1f} s")
