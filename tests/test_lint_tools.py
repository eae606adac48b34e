"""The lint and type-check habits of .ci/run: ruff is clean, and scripts/typecheck.py maps paths back to the repo."""
import importlib.util
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _typecheck_module():
    spec = importlib.util.spec_from_file_location("kw_typecheck", ROOT / "scripts" / "typecheck.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_ruff_finds_nothing_with_the_project_rule_set():
    folders = "kernelwright agents graph tools verifier benchmarks scripts tests".split()  # as in .ci/run
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", *folders],
                          cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:]


def test_typecheck_links_every_mapped_folder_and_reports_repo_paths(tmp_path, monkeypatch):
    typecheck = _typecheck_module()
    monkeypatch.setattr(typecheck, "TREE", tmp_path / "tree")
    prefixes = typecheck.link_tree(ROOT / "pyproject.toml")
    package = tmp_path / "tree" / "kernelwright"
    assert (package / "graph" / "state.py").resolve() == ROOT / "graph" / "state.py"
    assert (package / "verifier" / "sandbox").resolve() == ROOT / "verifier" / "sandbox"
    assert (package / "run.py").resolve() == ROOT / "kernelwright" / "run.py"
    error = "pool.py:103: error: Incompatible return value type  [return-value]"
    assert typecheck.repo_path(f"kernelwright/verifier/{error}", prefixes) == f"verifier/{error}"
    assert typecheck.repo_path("kernelwright/run.py:1: error: x", prefixes) == "kernelwright/run.py:1: error: x"
    assert typecheck.repo_path("Found 2 errors", prefixes) == "Found 2 errors"
