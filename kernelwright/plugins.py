"""The public plugin API: `from kernelwright.plugins import register` (the registries live in graph/plugins.py)."""
from kernelwright.graph.plugins import ENTRY_POINT_GROUP, KINDS, get, load_plugins, register, registry

__all__ = ["ENTRY_POINT_GROUP", "KINDS", "get", "load_plugins", "register", "registry"]
