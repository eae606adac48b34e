"""Rich progress for `kernelwright bench`: one bar, one line per finished problem."""
from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


class BenchProgress:
    """Context manager whose `event(kind, info)` is the runner's event callback."""

    def __init__(self, console: Console, quiet: bool = False):
        self.console = console
        self.quiet = quiet
        self.progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(),
                                 console=console, transient=True, disable=quiet)
        self.task = self.progress.add_task("bench", total=None)
        self.running: set[str] = set()

    def __enter__(self) -> BenchProgress:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.__exit__(*exc)

    def event(self, kind: str, info: dict[str, Any]) -> None:
        if kind == "broken":
            self.console.print(f"[yellow]skipped broken file[/]: {info['message']}")
        elif kind == "start":
            self.running.add(info["problem"])
            if self.progress.tasks[0].total is None:
                self.progress.update(self.task, total=0)
            self.progress.update(self.task, total=(self.progress.tasks[0].total or 0) + 1,
                                 description=f"running {', '.join(sorted(self.running))[:60]}")
        elif kind == "done":
            self.running.discard(info["problem"])
            self.progress.advance(self.task)
            if info.get("status") == "error":
                text = f"[red]error[/] {info['problem']}: {info.get('error')}"
            elif info.get("solved"):
                speed = info.get("speedup_eager")
                text = f"[green]correct[/] {info['problem']}" + (f" {speed:.2f}x eager" if speed else "")
            else:
                text = f"[yellow]unsolved[/] {info['problem']}"
            self.console.print(f"{text} ({info.get('worker')}, run {info.get('elapsed_s') or 0:.1f} s)")

