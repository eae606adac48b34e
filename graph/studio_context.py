"""Studio's run configuration: `Context` with the artifacts kept out of the folder `langgraph dev` watches.

`langgraph dev` reloads its server whenever a `.py` file under its working folder (the project)
changes, and it has no setting to exclude a folder. A run writes `attempt_N.py` and `best.py`, so
artifacts inside the project would reload the server and restart the run over and over. Under
Studio they go to `$XDG_CACHE_HOME/kernelwright/studio-runs` (default `~/.cache/...`) instead.

The server runs the context's construction on its event loop, where blocking calls (even
`os.getcwd`) are refused, so paths are checked lexically against the folder read at import.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from kernelwright.graph.context import Context

SERVED = Path.cwd().resolve()
"""The folder the server runs in and watches (read once, when langgraph dev imports the graph)."""


def absolute(path: str) -> Path:
    """`path` with `~` expanded, made absolute against SERVED and normalised, without touching the disk."""
    return Path(os.path.normpath(os.path.join(SERVED, os.path.expanduser(path))))


def studio_artifacts_root() -> Path:
    """Where Studio runs keep their artifacts: the user's cache folder, outside any project."""
    return absolute(os.environ.get("XDG_CACHE_HOME") or "~/.cache") / "kernelwright" / "studio-runs"


def inside(path: Path, folder: Path) -> bool:
    """Whether `path` is `folder` or lies below it."""
    return path == folder or folder in path.parents


@dataclass(kw_only=True)
class StudioContext(Context):
    """`Context` for `langgraph dev` / Studio runs; `artifacts_dir` defaults to `studio_artifacts_root()`."""

    artifacts_dir: str = field(default_factory=lambda: str(studio_artifacts_root()))
    """Folder holding <run_id>/attempt_<id>.py|.json and best.py; must lie outside the served project."""

    def __post_init__(self) -> None:
        path = absolute(self.artifacts_dir) if self.artifacts_dir else studio_artifacts_root()
        if inside(path, SERVED):
            raise ValueError(
                f"artifacts_dir {self.artifacts_dir!r} is inside {SERVED}, which `langgraph dev` watches: its .py "
                f"files would reload the server and restart the run; leave artifacts_dir unset "
                f"(default {studio_artifacts_root()}) or give a folder outside the project")
        self.artifacts_dir = str(path)
