"""Finding the problem suite, its honest candidates and the cheat zoo (shared by the suite tests)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROBLEMS = ROOT / "problems"
CANDIDATES = PROBLEMS / "candidates"
CHEATS = Path(__file__).resolve().parent / "cheats"

# "; timed": the cheat shows only in the timing stage, so the zoo times it on the CPU too
_HEADER = re.compile(r"Cheat for rule `(\w+)` on (problems/[\w/]+\.py) \(runs on: ([a-z, ]+)(; timed)?\)")


def problem_files() -> list[Path]:
    """The suite's top-level problems (problems/attention/ is a separate suite)."""
    return sorted(p for p in PROBLEMS.glob("*.py") if not p.name.startswith("_"))


def candidate_files(backend: str | None = None) -> list[Path]:
    """Honest candidates named <problem>__<backend>[_variant].py, optionally of one backend."""
    files = sorted(CANDIDATES.glob("*__*.py"))
    return [f for f in files if backend is None or candidate_backend(f) == backend]


def candidate_problem(candidate: Path) -> Path:
    return PROBLEMS / f"{candidate.stem.split('__')[0]}.py"


def candidate_backend(candidate: Path) -> str:
    tail = candidate.stem.split("__", 1)[1]
    return "load_inline" if tail.startswith("load_inline") else tail.split("_")[0]


@dataclass(frozen=True)
class Cheat:
    path: Path
    rule: str
    problem: Path
    devices: tuple[str, ...]
    timed: bool = False

    @property
    def gpu_only(self) -> bool:
        return "cpu" not in self.devices


def cheats() -> list[Cheat]:
    """Every file of the zoo with the rule, problem and devices its docstring declares."""
    found = []
    for path in sorted(CHEATS.glob("*.py")):
        match = _HEADER.search(path.read_text())
        if match is None:
            raise ValueError(f"{path}: first docstring line must read 'Cheat for rule `<id>` on problems/<x>.py "
                             "(runs on: cpu, gpu)'")
        rule, problem, devices, timed = match.groups()
        found.append(Cheat(path, rule, ROOT / problem, tuple(d.strip() for d in devices.split(",")), bool(timed)))
    return found
