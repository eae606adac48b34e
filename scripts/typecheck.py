"""Type-check kernelwright with mypy under its import names; paths in the report are the repo's own.

mypy cannot follow the import hook of an editable install, and the folders are not named like their
modules (graph/ is kernelwright.graph, ...). So this links the folders that pyproject.toml's
package-dir maps into build/typecheck/kernelwright/ and runs mypy there with the [tool.mypy]
settings of pyproject.toml (which name the modules to check). Exit code: mypy's (0 clean, 1 errors).

    python scripts/typecheck.py                          # the modules [tool.mypy] names
    python scripts/typecheck.py -p kernelwright.tools    # or any mypy arguments
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TREE = ROOT / "build" / "typecheck"


def package_dirs(pyproject: Path) -> dict[str, str]:
    """Top-level folder of each mapped subpackage, e.g. {"graph": "kernelwright.graph"}."""
    mapping = tomllib.loads(pyproject.read_text())["tool"]["setuptools"]["package-dir"]
    return {folder: name for name, folder in mapping.items() if name.startswith("kernelwright.")}


def link_tree(pyproject: Path) -> dict[str, str]:
    """Build TREE/kernelwright/ from symlinks; return {path prefix in the tree: path prefix in the repo}."""
    shutil.rmtree(TREE, ignore_errors=True)
    package = TREE / "kernelwright"
    package.mkdir(parents=True)
    for entry in (ROOT / "kernelwright").iterdir():
        if entry.name != "__pycache__":
            (package / entry.name).symlink_to(entry)
    prefixes = {}
    for folder, name in package_dirs(pyproject).items():
        sub = name.removeprefix("kernelwright.")
        (package / sub).symlink_to(ROOT / folder)
        prefixes[f"kernelwright/{sub}/"] = f"{folder}/"
    prefixes["kernelwright/"] = "kernelwright/"
    return prefixes


def repo_path(line: str, prefixes: dict[str, str]) -> str:
    for tree_prefix, repo_prefix in prefixes.items():
        if line.startswith(tree_prefix):
            return repo_prefix + line[len(tree_prefix):]
    return line


def main(argv: list[str]) -> int:
    pyproject = ROOT / "pyproject.toml"
    prefixes = link_tree(pyproject)
    cmd = [sys.executable, "-m", "mypy", "--config-file", str(pyproject), "--cache-dir", str(ROOT / ".mypy_cache"),
           *argv]
    env = {**os.environ, "MYPYPATH": str(TREE)}
    done = subprocess.run(cmd, cwd=TREE, env=env, capture_output=True, text=True)
    for line in (done.stdout + done.stderr).splitlines():
        print(repo_path(line, prefixes))
    return done.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
