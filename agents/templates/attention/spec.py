"""Read an attention problem's metadata and mod functions into an `AttentionSpec` (no execution).

Problem metadata (module level, all optional; a problem matches when it defines ``ATTENTION``,
``TEMPLATE = {"kind": "attention"}``, ``score_mod`` or ``mask_mod``):

    ATTENTION = {
        "causal": True,                 # kv_idx <= q_idx: skip tiles above the diagonal
        "window": "WINDOW",             # kv_idx > q_idx - WINDOW: skip tiles left of the band
        "documents": 8,                 # doc(i) = i * 8 // S: skip tiles across document borders
        "grid": ["GRID_H", "GRID_W", "KERNEL"],  # 2-D neighbourhood: tile queries and keys in 2-D
        "init_args": ["WINDOW"],        # constants passed by get_init_inputs(), in order
    }

Values may be ints or names of module constants. The block bounds come from these keys; the
element-wise mask always comes from translating ``mask_mod`` (so a wrong key shows up as an
incorrect verdict, never as a silently different function). Inputs are ``q, k, v`` of shape
(B, H, S, D); the names B, H, S, D in mod functions map to the runtime sizes. Constants that the
problem's SMALL_SHAPE / EXTRA_SHAPES override must be shapes or init arguments.

Tensors that score_mod reads (its arguments after the five, e.g. learned ALiBi slopes) are attributes
the reference `Model.__init__` creates; the candidate's ModelNew takes them from a copy of that
constructor (`model_init`), so that it owns tensors of the same names and shapes, which the verifier
fills with the reference's values. That constructor may read its arguments and the module constants
the test shapes leave alone.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any

from kernelwright.agents.templates.attention.translate_triton import (
    TranslateError,
    Translation,
    float_index_safe,
    translate,
)

SHAPE_NAMES = {"B": "Z", "H": "NUM_HEADS", "S": "N_CTX", "D": "HEAD_DIM"}


@dataclass
class AttentionSpec:
    """Everything the kernel renderer needs to know about one attention problem."""

    score: Translation | None
    mask: Translation | None
    causal: bool = False
    window: str | None = None        # Triton text (literal or P_<NAME>)
    documents: str | None = None
    grid: tuple[str, str, str] | None = None
    init_args: list[str] = field(default_factory=list)
    head_dim: int = 128
    tensors: dict[str, int] = field(default_factory=dict)  # score_mod's tensor arguments -> index count
    model_init: str = ""  # class `_KwTensors`: the reference constructor, for problems with tensors


def module_literals(tree: ast.Module) -> dict[str, Any]:
    """Module-level `NAME = <literal>` assignments (numbers, dicts, lists, strings)."""
    out: dict[str, Any] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                out[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                continue
    return out


def is_attention_problem(source: str) -> bool:
    """True when the problem source declares attention metadata or FlexAttention-style mods."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return False
    literals = module_literals(tree)
    template = literals.get("TEMPLATE")
    if isinstance(template, dict) and template.get("kind") == "attention":
        return True
    if isinstance(literals.get("ATTENTION"), dict):
        return True
    return any(isinstance(n, ast.FunctionDef) and n.name in ("score_mod", "mask_mod") for n in tree.body)


def spec_names(tree: ast.Module) -> dict[str, str]:
    """Module-level name -> kernel text: numeric constants as literals, shapes as the kernel's size
    arguments, init arguments as P_<NAME>; constants that the test shapes override are left out."""
    literals = module_literals(tree)
    meta = literals.get("ATTENTION") or {}
    init_args = [str(n) for n in meta.get("init_args", [])]
    names: dict[str, str] = {}
    for name, value in literals.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            names[name] = repr(value)
    names.update(SHAPE_NAMES)
    names.update({n: f"P_{n}" for n in init_args})
    for name in _overridden_names(literals) - set(SHAPE_NAMES) - set(init_args):
        names.pop(name, None)  # its value changes per shape: the kernel cannot bake it in
    return names


def parse_spec(source: str) -> AttentionSpec:
    """Build the spec; raises TranslateError (one line) when something cannot be expressed."""
    tree = ast.parse(source)
    literals = module_literals(tree)
    meta = literals.get("ATTENTION") or {}
    init_args = [str(n) for n in meta.get("init_args", [])]
    names = spec_names(tree)

    def value(key: str) -> str | None:
        raw = meta.get(key)
        if raw is None or raw is False:
            return None
        if isinstance(raw, str):
            if raw not in names:
                raise TranslateError(f"ATTENTION[{key!r}] names `{raw}`, which is not a constant, "
                                     "shape or init argument")
            return names[raw]
        return repr(int(raw))

    functions = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    score = None
    if "score_mod" in functions:
        score = translate(tree, "score_mod", names, float_indices=float_index_safe(tree, "score_mod"))
    mask = translate(tree, "mask_mod", names) if "mask_mod" in functions else None
    grid = None
    if meta.get("grid"):
        parts = meta["grid"]
        if len(parts) != 3:
            raise TranslateError("ATTENTION['grid'] must be [GRID_H, GRID_W, KERNEL]")
        grid = tuple(_as_text(p, names) for p in parts)  # type: ignore[assignment]
    head_dim = int(literals.get("D", 128))
    tensors = score.tensors if score is not None else {}
    return AttentionSpec(score=score, mask=mask, causal=bool(meta.get("causal", False)), window=value("window"),
                         documents=value("documents"), grid=grid, init_args=init_args, head_dim=head_dim,
                         tensors=tensors, model_init=model_init(tree, set(tensors)) if tensors else "")


_INIT_GLOBALS = {"self", "torch", "nn", "math", "super", "float", "int", "range", "len", "min", "max", "abs"}


def model_init(tree: ast.Module, tensors: set[str]) -> str:
    """Source of class `_KwTensors(nn.Module)`, whose constructor is the reference Model's (same arguments,
    same body, the module constants it reads bound first): ModelNew takes `tensors` from it. TranslateError
    when the constructor does not create every tensor in `tensors` or reads a name the test shapes change."""
    model = next((n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Model"), None)
    init = next((n for n in model.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"), None) \
        if model is not None else None
    if init is None:
        raise TranslateError("score_mod reads tensors, but the problem has no Model.__init__ that creates them")
    body = [s for s in init.body if not (isinstance(s, ast.Expr) and "super" in _names(s))
            and not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
    created = {t.attr for s in body for n in ast.walk(s) if isinstance(n, ast.Assign) for t in n.targets
               if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self"}
    if tensors - created:
        missing = sorted(tensors - created)[0]
        raise TranslateError(f"score_mod reads `{missing}`, which Model.__init__ does not create as self.{missing}")
    literals = module_literals(tree)
    local = {a.arg for a in init.args.args} | {t.id for s in body for n in ast.walk(s) if isinstance(n, ast.Assign)
                                                for t in n.targets if isinstance(t, ast.Name)}
    constants = sorted({n for s in body for n in _names(s)} - local - _INIT_GLOBALS)
    changed = _overridden_names(literals)
    for name in constants:
        if name in changed or not isinstance(literals.get(name), (int, float)):
            raise TranslateError(f"Model.__init__ reads `{name}`: pass it through get_init_inputs() instead "
                                 "(the test shapes change it, or it is not a numeric constant)")
    first = [ast.parse("super().__init__()").body[0]] + \
        [ast.parse(f"{n} = {literals[n]!r}").body[0] for n in constants]
    fn = ast.FunctionDef(name="__init__", args=init.args, body=first + body, decorator_list=[], returns=None,
                         type_params=[])
    cls = ast.ClassDef(name="_KwTensors", bases=[ast.parse("nn.Module", mode="eval").body], keywords=[],
                       body=[fn], decorator_list=[], type_params=[])
    return ast.unparse(ast.fix_missing_locations(cls))


def _names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _as_text(raw: Any, names: dict[str, str]) -> str:
    if isinstance(raw, str):
        if raw not in names:
            raise TranslateError(f"ATTENTION['grid'] names `{raw}`, which is not a constant or init argument")
        return names[raw]
    return repr(int(raw))


def _overridden_names(literals: dict[str, Any]) -> set[str]:
    names: set[str] = set()
    small = literals.get("SMALL_SHAPE")
    if isinstance(small, dict):
        names |= set(small)
    for extra in literals.get("EXTRA_SHAPES") or []:
        if isinstance(extra, dict):
            names |= set(extra)
    return names
