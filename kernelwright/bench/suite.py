"""Find the problems of a suite directory; broken files are reported one line each and skipped.

A KernelBench level folder works as it is: every ``*.py`` file that defines ``Model``,
``get_inputs`` and ``get_init_inputs`` is a problem. Files are only parsed and imported here
(no reference is built), so that a suite with huge default shapes is cheap to list.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

from kernelwright.verifier.problem import LoadError, exec_source

REQUIRED = ("Model", "get_inputs", "get_init_inputs")


@dataclass
class SuiteProblem:
    """One problem file of the suite; `key` is its path relative to the suite root."""

    key: str
    path: str


@dataclass
class BrokenFile:
    path: str
    message: str  # one line, names the file and what is wrong


@dataclass
class Suite:
    root: str
    problems: list[SuiteProblem] = field(default_factory=list)
    broken: list[BrokenFile] = field(default_factory=list)


def _natural_key(path: Path) -> list:
    """Sort "2_x.py" before "10_x.py" as KernelBench numbering expects."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", str(path))]


def _defined_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


def check_problem_file(path: Path, import_check: bool = True) -> str | None:
    """Return None when `path` looks like a valid problem, else a one-line reason."""
    try:
        source = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        return f"{path}: cannot be read: {exc}"
    try:
        tree = ast.parse(source, str(path))
    except SyntaxError as exc:
        return f"{path}: syntax error at line {exc.lineno}: {exc.msg}"
    missing = [name for name in REQUIRED if name not in _defined_names(tree)]
    if missing:
        return f"{path}: not a problem: no {', '.join(f'`{m}`' for m in missing)} defined"
    if import_check:
        try:
            exec_source(source, "kw_suite_probe", str(path))
        except LoadError as exc:
            return str(exc).splitlines()[0]
    return None


def discover(directory: str | Path, *, recursive: bool = False, import_check: bool = True) -> Suite:
    """List the problems in `directory` (``*.py``, natural order); collect broken files apart."""
    root = Path(directory)
    if not root.is_dir():
        raise LoadError(f"{root}: suite directory not found; pass a folder of problem files")
    files = root.rglob("*.py") if recursive else root.glob("*.py")
    suite = Suite(root=str(root))
    for path in sorted(files, key=_natural_key):
        if path.name.startswith(("_", ".")):
            continue
        reason = check_problem_file(path, import_check=import_check)
        if reason:
            suite.broken.append(BrokenFile(path=str(path), message=reason))
        else:
            key = path.relative_to(root).with_suffix("").as_posix()
            suite.problems.append(SuiteProblem(key=key, path=str(path)))
    return suite
