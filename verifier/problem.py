"""Problems and candidates in KernelBench format, with optional kernelwright metadata.

A problem file defines ``class Model(nn.Module)``, ``get_inputs()`` and ``get_init_inputs()``.
Optional module-level metadata refines it (all names upper case, all optional):

    NAME = "softmax_rows"                     # defaults to the file stem
    DESCRIPTION = "Row-wise softmax ..."      # task in words for the coder
    ATOL = 1e-5; RTOL = 1e-5                  # or dicts keyed by dtype name ("float32", ...)
    EXTRA_SHAPES = [{"N": 127}, {"N": 129}]  # overrides of module-level int constants
    LARGE_MAGNITUDE = 100.0                   # scale of the scaled trial (default 100); None disables it
    LARGE_MAGNITUDE_ATOL = 0.16               # atol of that trial (float or dict); default ATOL
    SHIFT_MAGNITUDE = 1000.0                  # offset of the shifted trial (default 1000); None disables it
    SHIFT_MAGNITUDE_ATOL = 0.2                # atol of that trial (float or dict); default ATOL
    SMALL_SHAPE = {"N": 1000}                 # constant overrides for the CPU interpreter
    FIXED_DIMS = ["HEAD_DIM"]                 # constants the automatic CPU shrink must not change
    TEMPLATE = {"kind": "softmax"}            # template-coder family (agents/templates/)
    BACKENDS = ["triton", "cupy"]             # backends the coder may use
    BACKWARD = True                           # verify gradients too, time forward + backward (backward.py)
    GRAD_ATOL = {"bfloat16": 6e-2}; GRAD_RTOL = ...   # the gradients' tolerances; default ATOL / RTOL
    def count_flops(*inputs) -> float: ...    # for roofline / speed-of-light checks
    def count_bytes(*inputs) -> float: ...
    def score_mod(score, b, h, q_idx, kv_idx): ...   # attention problems
    def mask_mod(b, h, q_idx, kv_idx): ...

A candidate file defines ``class ModelNew(nn.Module)`` with the same constructor and forward.
"""
from __future__ import annotations

import ast
import hashlib
import inspect
import textwrap
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class LoadError(ValueError):
    """A file is not a valid problem or candidate; the message is one line for the user."""


@dataclass
class Problem:
    """A reference problem: its source text plus metadata read from the module."""

    name: str
    source: str
    path: str | None = None
    description: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)  # JSON-able metadata only

    @property
    def label(self) -> str:
        return self.path or f"<problem {self.name}>"

    def module(self, overrides: dict[str, Any] | None = None) -> types.ModuleType:
        """Execute the source in a fresh module, applying constant overrides (extra shapes)."""
        module = exec_source(self.source, f"kw_problem_{self.name}", self.label)
        for key, value in (overrides or {}).items():
            setattr(module, key, value)
        return module


def exec_source(source: str, module_name: str, label: str) -> types.ModuleType:
    """Compile and execute source text as a module; raise LoadError with one line on failure."""
    try:
        code = compile(source, label, "exec")
    except SyntaxError as exc:
        raise LoadError(f"{label}: syntax error at line {exc.lineno}: {exc.msg}") from None
    module = types.ModuleType(module_name)
    module.__file__ = label
    import sys

    sys.modules[module_name] = module  # triton.jit needs the defining module importable
    try:
        exec(code, module.__dict__)
    except Exception as exc:  # noqa: BLE001 - any import-time failure is the file's fault
        raise LoadError(f"{label}: failed at import: {type(exc).__name__}: {exc}") from None
    return module


_SIMPLE_KEYS = (
    "NAME", "DESCRIPTION", "ATOL", "RTOL", "EXTRA_SHAPES", "LARGE_MAGNITUDE", "LARGE_MAGNITUDE_ATOL", "BACKENDS",
    "SHIFT_MAGNITUDE", "SHIFT_MAGNITUDE_ATOL",
    "SMALL_SHAPE", "TEMPLATE", "FIXED_DIMS", "BACKWARD", "GRAD_ATOL", "GRAD_RTOL",
)
METADATA_KEYS = _SIMPLE_KEYS  # module-level metadata names of a problem file (not part of its computation)


def _build(module: Any) -> tuple[Any, Any]:
    return module.Model(*list(module.get_init_inputs())), module.get_inputs()


def _build_on_meta(module: Any) -> tuple[Any, Any]:
    """Model and inputs on the meta device: checks they build without the memory (KernelBench's
    full sizes take gigabytes; loading must not)."""
    import torch

    with torch.device("meta"):
        return _build(module)


def load_problem(problem: Problem | str | Path) -> Problem:
    """Load a problem from a path, source text, or return a Problem unchanged after validation."""
    if isinstance(problem, Problem):
        return problem
    source, path = _read(problem, "problem")
    label = path or "<problem source>"
    module = exec_source(source, "kw_problem_probe", label)
    for name in ("Model", "get_inputs", "get_init_inputs"):
        if not hasattr(module, name):
            raise LoadError(f"{label}: not a problem: no `{name}` defined")
    try:
        model, inputs = _build_on_meta(module)
    except Exception:  # noqa: BLE001 - some problems need real tensors to build: build them for real
        try:
            model, inputs = _build(module)
        except Exception as exc:  # noqa: BLE001
            raise LoadError(f"{label}: building the reference failed: {type(exc).__name__}: {exc}") from None
    if not isinstance(inputs, (list, tuple)):
        raise LoadError(f"{label}: get_inputs() must return a list, got {type(inputs).__name__}")
    del model
    metadata = {k.lower(): getattr(module, k) for k in _SIMPLE_KEYS if hasattr(module, k)}
    metadata["functions"] = sorted(
        n for n in ("count_flops", "count_bytes", "score_mod", "mask_mod") if callable(getattr(module, n, None))
    )
    metadata["constants"] = {
        k: v for k, v in vars(module).items()
        if not k.startswith("_") and isinstance(v, int) and not isinstance(v, bool) and k not in _SIMPLE_KEYS
    }
    name = str(metadata.pop("name", None) or (Path(path).stem if path else "problem"))
    description = str(metadata.pop("description", "") or (module.__doc__ or "")).strip()
    return Problem(name=name, source=source, path=path, description=description, metadata=metadata)


def problem_from_model(model_cls: type, get_inputs, get_init_inputs, name: str | None = None) -> Problem:
    """Build a Problem in a notebook from an nn.Module class and its input functions.

    Their source is copied (module-level names they use must be defined inside them)."""
    parts = ["import torch", "import torch.nn as nn", "import torch.nn.functional as F", ""]
    for obj, alias in ((model_cls, "Model"), (get_inputs, "get_inputs"), (get_init_inputs, "get_init_inputs")):
        try:
            text = textwrap.dedent(inspect.getsource(obj))
        except (OSError, TypeError):
            raise LoadError(f"source of {getattr(obj, '__name__', obj)!r} is not available: define it in a "
                            "file or a notebook cell, or pass a problem file") from None
        tree = ast.parse(text)
        node = tree.body[0]
        node.name = alias  # type: ignore[attr-defined]
        parts.append(ast.unparse(tree))
    problem = load_problem("\n\n".join(parts))
    problem.name = name or model_cls.__name__
    return problem


def read_candidate(candidate: str | Path) -> tuple[str, str]:
    """Return (source, label) of a candidate given as a path or as source text."""
    source, path = _read(candidate, "candidate")
    label = path or "<candidate source>"
    try:
        defines = defines_model_new(source)
    except SyntaxError as exc:
        raise LoadError(f"{label}: syntax error at line {exc.lineno}: {exc.msg}") from None
    if not defines:
        raise LoadError(f"{label}: not a candidate: no `class ModelNew` defined")
    return source, label


def defines_model_new(source: str) -> bool:
    """Whether `source` defines `class ModelNew` at module level; SyntaxError if it does not parse."""
    tree = ast.parse(source)
    return any(isinstance(n, ast.ClassDef) and n.name == "ModelNew" for n in tree.body)


def looks_like_path(item: str | Path) -> bool:
    """Guess whether a problem or candidate was given as a file path (else it is source text)."""
    return isinstance(item, Path) or ("\n" not in str(item) and str(item).endswith(".py"))


def _read(item: str | Path, what: str) -> tuple[str, str | None]:
    if looks_like_path(item):
        path = Path(item)
        if not path.is_file():
            raise LoadError(f"{path}: {what} file not found")
        return path.read_text(), str(path)
    return str(item), None


def source_sha(source: str) -> str:
    return hashlib.sha256(source.encode()).hexdigest()[:16]
