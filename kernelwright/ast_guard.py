"""One `ast.parse` at a time on the CPython releases whose AST constructor is not thread-safe.

Before 3.11.8 and 3.12.2 (CPython gh-106905), `ast.parse` kept its recursion count in state shared
by the interpreter. When a garbage collection inside it ran a finalizer that let another thread
parse, one of them failed with "SystemError: AST constructor recursion depth mismatch". kernelwright
parses in several threads at once (verifier pool, coders, bench runs), so on those releases every
`ast.parse` of the process goes through one lock. Later releases are left untouched.
"""
from __future__ import annotations

import ast
import sys
import threading
from typing import Any

_LOCK = threading.RLock()  # re-entrant: a finalizer that runs inside a parse may parse again


def affected(version: tuple[int, int, int] | None = None) -> bool:
    """True on the CPython releases with the shared AST recursion count."""
    major, minor, micro = version or sys.version_info[:3]
    return (major, minor) == (3, 11) and micro < 8 or (major, minor) == (3, 12) and micro < 2


def serialize_ast_parsing() -> None:
    """Route `ast.parse` through the lock (once per process)."""
    if getattr(ast.parse, "kw_serialized", False):
        return
    unguarded = ast.parse

    def parse(*args: Any, **kwargs: Any) -> Any:
        with _LOCK:
            return unguarded(*args, **kwargs)

    parse.kw_serialized = True  # type: ignore[attr-defined]
    parse.__doc__ = unguarded.__doc__
    ast.parse = parse  # type: ignore[assignment]


if affected():
    serialize_ast_parsing()
