"""The layering of README's "Where things live": no module imports upwards.

verifier <- tools <- agents <- graph <- kernelwright (public API, CLI, bench), where tools and
agents may read the graph's shared schema (graph/state.py, graph/context.py, graph/plugins.py),
and only graph/builder.py imports the nodes. Function-local imports count too.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("verifier", "tools", "agents", "graph", "kernelwright")  # bottom to top
SHARED_SCHEMA = {"kernelwright.graph.state", "kernelwright.graph.context", "kernelwright.graph.plugins"}
BUILDER = "kernelwright.graph.builder"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[0] != "kernelwright":
        parts.insert(0, "kernelwright")
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS[:-1] else "kernelwright"


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module) of every kernelwright import in the file, relative ones resolved."""
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found += [(node.lineno, f"{target}.{alias.name}" if _is_module(f"{target}.{alias.name}") else target)
                      for alias in node.names]
    return [(line, name) for line, name in found if name.split(".")[0] == "kernelwright"]


def _is_module(name: str) -> bool:
    parts = name.split(".")[1:]
    if parts and parts[0] in LAYERS[:-1]:
        folder = ROOT.joinpath(*parts)
    else:
        folder = ROOT.joinpath("kernelwright", *parts)
    return folder.with_suffix(".py").is_file() or (folder / "__init__.py").is_file()


def forbidden(importer: str, imported: str) -> str | None:
    """Why the edge importer -> imported breaks the layering, or None when it is allowed."""
    if imported.startswith("kernelwright.graph.nodes") and not importer.startswith("kernelwright.graph.nodes") \
            and importer != BUILDER:
        return "only graph/builder.py imports the nodes"
    low, high = LAYERS.index(layer(importer)), LAYERS.index(layer(imported))
    if high <= low:
        return None
    if imported in SHARED_SCHEMA and layer(importer) in ("tools", "agents"):
        return None
    return f"{layer(importer)} may not import {layer(imported)}"


def package_files() -> list[Path]:
    return sorted(p for top in LAYERS for p in (ROOT / top).rglob("*.py"))


def test_the_package_folders_are_all_walked():
    names = {module_name(p) for p in package_files()}
    assert {"kernelwright.verifier.sandbox.child", "kernelwright.graph.nodes.verify", "kernelwright.cli"} <= names


def test_no_module_imports_upwards():
    broken = [f"{path.relative_to(ROOT)}:{line}: {name} ({why})"
              for path in package_files() for line, name in imports(path)
              if (why := forbidden(module_name(path), name))]
    assert not broken, "\n".join(broken)


@pytest.mark.parametrize("importer, imported, allowed", [
    ("kernelwright.verifier.judge", "kernelwright.tools.precheck", False),
    ("kernelwright.tools.precheck", "kernelwright.verifier.problem", True),
    ("kernelwright.agents.critic", "kernelwright.graph.strategies", False),
    ("kernelwright.agents.template_coder", "kernelwright.graph.plugins", True),
    ("kernelwright.verifier.pool", "kernelwright.graph.state", False),
    ("kernelwright.graph.routing", "kernelwright.graph.nodes.plan", False),
    ("kernelwright.graph.builder", "kernelwright.graph.nodes.plan", True),
    ("kernelwright.graph.nodes.verify", "kernelwright.run", False),
    ("kernelwright.cli.run", "kernelwright.graph.builder", True),
])
def test_the_rule_itself(importer, imported, allowed):
    assert (forbidden(importer, imported) is None) is allowed


def test_nothing_imports_the_benchmark_scripts():
    """benchmarks/ holds scripts only: no test or package module puts it on sys.path or loads a file from it."""
    offenders = [str(p.relative_to(ROOT)) for p in [*package_files(), *sorted((ROOT / "tests").rglob("*.py"))]
                 if p.name != "test_layout.py" and "\"benchmarks\"" in p.read_text()
                 and ("sys.path" in p.read_text() or "spec_from_file" in p.read_text())]
    assert not offenders, offenders
