"""Plugin registries: coders, strategies, templates, tools, nodes and verifier backends.

Register in process with a decorator, or ship a package with an entry point in the group
``kernelwright.plugins`` whose target is a module (imported) or a callable (called once):

    [project.entry-points."kernelwright.plugins"]
    my_plugin = "my_package.kernelwright_plugin"

    # my_package/kernelwright_plugin.py
    from kernelwright.plugins import register
    @register("coder", "my-coder")
    class MyCoder: ...
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import import_module
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from kernelwright.verifier.verdict import Verdict

KINDS = ("coder", "strategy", "template", "tool", "node", "backend")
ENTRY_POINT_GROUP = "kernelwright.plugins"

_registries: dict[str, dict[str, Any]] = {kind: {} for kind in KINDS}
_entry_points_loaded = False
_load_lock = threading.RLock()  # registries are read from parallel graph nodes


@dataclass(frozen=True)
class ToolRuntime:
    """What a tool plugin gets besides the attempt and its verdict: the run's state, context and folder."""

    state: Mapping[str, Any]
    context: Any
    run_dir: Path


class ToolPlugin(Protocol):
    """Kind "tool": called on every verified attempt; what it returns lands in `attempt["meta"]["tools"]`."""

    def __call__(self, attempt: dict[str, Any], verdict: Verdict, runtime: ToolRuntime) -> dict[str, Any] | None: ...


class NodePlugin(Protocol):
    """Kind "node": a graph node chained between verify and critique, returning state updates."""

    def __call__(self, state: Mapping[str, Any], runtime: Any) -> dict[str, Any]: ...


PLUGIN_CONTRACTS = {
    "coder": "a Coder class or factory (agents/coder.py): generate(CodeRequest) -> CodeResult",
    "strategy": "a Strategy (graph/strategies.py)",
    "template": "a TemplateFamily (agents/templates/base.py): matches, configs, render",
    "tool": "a ToolPlugin: (attempt, verdict, runtime: ToolRuntime) -> dict | None",
    "node": "a NodePlugin: (state, runtime) -> dict of state updates",
    "backend": "a verifier backend (verifier/backends.py)",
}
"""What each kind of plugin must be (README's plugin section says the same)."""


def register(kind: str, name: str) -> Callable[[Any], Any]:
    """Decorator: register `obj` under `name` in the `kind` registry and return it unchanged."""
    if kind not in _registries:
        raise ValueError(f"unknown plugin kind {kind!r}; choose one of {', '.join(KINDS)}")

    def decorate(obj: Any) -> Any:
        _registries[kind][name] = obj
        return obj

    return decorate


def registry(kind: str) -> dict[str, Any]:
    """All plugins of one kind, after loading entry points and the built-in modules once."""
    load_plugins()
    return _registries[kind]


def get(kind: str, name: str) -> Any:
    """One plugin by name; a one-line error lists the known names when it is missing."""
    items = registry(kind)
    if name not in items:
        known = ", ".join(sorted(items)) or "none"
        raise KeyError(f"no {kind} named {name!r}; known: {known}")
    return items[name]


# modules that register built-ins on import
BUILTIN_MODULES: list[str] = [
    "kernelwright.graph.strategies",
    "kernelwright.agents.template_coder",
    "kernelwright.agents.llm_coder",
    "kernelwright.tools.profile_tool",
]


def load_plugins() -> None:
    """Import built-in plugin modules and third-party entry points (once per process)."""
    global _entry_points_loaded
    with _load_lock:
        if _entry_points_loaded:
            return
        _entry_points_loaded = True
        for module in BUILTIN_MODULES:
            import_module(module)
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            target = ep.load()
            if callable(target) and not isinstance(target, type):
                target()
