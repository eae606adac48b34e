"""The progress view of `kernelwright run`: run id and resume command first, then one line per iteration.

On a terminal a rich progress bar counts iterations ("iteration k of N") or, without an iteration
limit, the wall-clock budget; without a terminal each iteration is one plain line, never wrapped.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Self

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn


def make_console(stderr: bool = False) -> Console:
    """A console that prints text as given (no markup) and wraps lines only on a terminal."""
    console = Console(stderr=stderr, markup=False, highlight=False)
    console.soft_wrap = not console.is_terminal
    return console


def resume_command(run_id: str, artifacts: Path) -> str:
    """The exact command that continues run `run_id`."""
    extra = "" if Path(artifacts) == Path("runs") else f" --artifacts {artifacts}"
    return f"kernelwright run --resume {run_id}{extra}"


class ProgressView:
    """Renders the graph's custom events (run, plan, iteration) and says how to resume an interrupted run."""

    def __init__(self, console: Console, budget_s: float, artifacts: Path, quiet: bool = False) -> None:
        self.console = console
        self.budget_s = budget_s
        self.artifacts = artifacts
        self.quiet = quiet  # --json: the start and interrupt lines only
        self.live = console.is_terminal and not quiet
        self.run_id: str | None = None
        self.of = ""  # " of N" once the iteration limit is known
        self.iteration = 0
        self.progress = Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                                 TextColumn("{task.fields[info]}"), console=console, transient=False)
        self.task = self.progress.add_task("starting", total=budget_s, info="")

    def __enter__(self) -> Self:
        if self.live:
            self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self.live:
            self.live = False
            self.progress.stop()

    def interrupted(self) -> None:
        """Ctrl-C: the run id and the command that continues the run (called just before the exit)."""
        self.stop()
        if self.run_id is None:
            self.console.print("interrupted before the run started; nothing to resume")
            return
        self.console.print(f"interrupted: run {self.run_id} stopped in iteration {self.iteration + 1}{self.of}; "
                           f"resume with: {resume_command(self.run_id, self.artifacts)}")

    def __call__(self, mode: str, chunk: Any) -> None:
        if mode != "custom" or not isinstance(chunk, dict):
            return
        event = chunk.get("event")
        if event == "run":
            self._start(chunk)
        elif event == "warning":
            self.console.print(f"warning (attempt {chunk.get('id')}): {chunk.get('message')}")
        elif event == "plan":
            self.progress.update(self.task, description=f"iteration {chunk['iteration']}{self.of}: {chunk['strategy']}")
        elif event == "iteration":
            self.iteration = int(chunk["iteration"])
            speed = chunk.get("best_speedup")
            best = "none" if chunk.get("best_attempt") is None else (
                f"#{chunk['best_attempt']} " + (f"{speed:.2f}x eager" if speed else "(correct, untimed)"))
            info = f"best {best} | budget left {chunk['budget_left_s']:.0f}s | {', '.join(chunk['statuses'])}"
            done = self.iteration if self.of else min(self.budget_s, chunk["elapsed_s"])
            self.progress.update(self.task, completed=done, info=info)
            if not self.live and not self.quiet:
                self.console.print(f"iteration {chunk['iteration']}{self.of} {chunk['strategy']}: {info}")

    def _start(self, chunk: dict[str, Any]) -> None:
        self.run_id = chunk["run_id"]
        self.iteration = int(chunk.get("iteration") or 0)
        limit = chunk.get("max_iterations")
        self.of = f" of {limit}" if limit else ""
        self.budget_s = float(chunk.get("budget_s") or self.budget_s)
        self.progress.update(self.task, total=limit or self.budget_s, completed=self.iteration if limit else 0)
        verb = f"resumed after iteration {self.iteration}" if chunk.get("resumed") else "started"
        self.console.print(f"run {self.run_id} {verb}: artifacts in {chunk['run_dir']}; Ctrl-C stops it, "
                           f"{resume_command(self.run_id, self.artifacts)} continues it")
