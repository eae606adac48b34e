"""Reading an R1-style reply: reasoning apart from the answer, code out of fenced blocks."""
from __future__ import annotations

import ast
import re

from kernelwright.verifier.problem import defines_model_new

_THINK_OPEN = "<think>"
_THINK_CLOSE = "</think>"
_FENCE = re.compile(r"^[ \t]*```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)^[ \t]*```[ \t]*$", re.M | re.S)
_PY_LANGS = {"", "python", "py", "python3"}


def split_reasoning(content: str, reasoning_field: str | None = None) -> tuple[str, str]:
    """Return (reasoning, answer) from a reply.

    Endpoints with a reasoning parser send the reasoning in a separate field; others inline it
    between <think> tags (sometimes without the opening tag). A reply cut off inside the
    thinking has no answer at all.
    """
    content = content or ""
    parts: list[str] = [reasoning_field.strip()] if reasoning_field and reasoning_field.strip() else []
    answer = content
    if _THINK_CLOSE in content:
        head, _, answer = content.rpartition(_THINK_CLOSE)
        inline = head.replace(_THINK_OPEN, "").strip()
        if inline:
            parts.append(inline)
    elif _THINK_OPEN in content:
        before, _, inline = content.partition(_THINK_OPEN)
        parts.append(inline.strip())
        answer = before
    return "\n\n".join(parts), answer.strip()


def extract_code(answer: str) -> tuple[str | None, str]:
    """Return (source, "") for the last python block that defines ModelNew, else (None, reason)."""
    blocks = [(lang.lower(), body) for lang, body in _FENCE.findall(answer or "")]
    python_blocks = [body for lang, body in blocks if lang in _PY_LANGS]
    if not python_blocks:
        if answer and answer.count("```") % 2 == 1:
            return None, "the code block was never closed (the answer looks cut off)"
        return None, "there was no fenced ```python code block in the answer"
    candidates = [body for body in python_blocks if "ModelNew" in body]
    if not candidates:
        return None, "no code block defines `class ModelNew(nn.Module)`"
    source = candidates[-1].rstrip() + "\n"
    problem = validate_candidate(source)
    if problem:
        return None, problem
    return source, ""


def validate_candidate(source: str) -> str:
    """Empty string when the source parses and defines class ModelNew; else what is wrong."""
    try:
        defines = defines_model_new(source)
    except SyntaxError as exc:
        return f"the code does not parse (line {exc.lineno}: {exc.msg})"
    if not defines:
        return "the code block does not define `class ModelNew` at module level"
    return ""


def estimate_tokens(text: str) -> int:
    """Rough token count (about four characters a token) for endpoints that report no usage."""
    return max(1, (len(text) + 3) // 4) if text else 0


UNRESOLVED = "unresolved: "  # prefix of a launch setting whose value is only known at run time


def launch_settings(source: str) -> dict[str, object]:
    """Keyword arguments of `kernel[grid](...)` launches (BLOCK=..., num_warps=...), resolved to values.

    A name or `self.NAME` is followed to its constant assignment (in the launching function, the
    class's `__init__` or at module level; simple arithmetic is evaluated), so `BLOCK_SIZE = 1024`
    gives {"BLOCK_SIZE": 1024}. What cannot be resolved reads "unresolved: <expression>".
    Recorded in the attempt's meta so that later prompts list the configurations tried by value.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}
    module = _constants(tree.body)
    attributes: dict[str, ast.expr | None] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) \
                        and target.value.id == "self":
                    attributes[target.attr] = node.value if target.attr not in attributes else None
    settings: dict[str, object] = {}
    functions = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    for scope_node, names in [(tree, module)] + [(f, {**module, **_constants(list(ast.walk(f)))}) for f in functions]:
        body = scope_node.body if scope_node is tree else [scope_node]
        for node in (n for top in body for n in ast.walk(top)):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Subscript):
                for kw in node.keywords:
                    if kw.arg:
                        settings[kw.arg] = _resolve(kw.value, names, attributes)
    return settings


def _constants(nodes: list[ast.AST]) -> dict[str, ast.expr | None]:
    """NAME -> its assigned expression (None when assigned more than once)."""
    found: dict[str, ast.expr | None] = {}
    for node in nodes:
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    found[target.id] = node.value if target.id not in found else None
    return found


def _resolve(expr: ast.expr, names: dict, attributes: dict) -> object:
    try:
        return _value(expr, names, attributes, depth=0)
    except ValueError as exc:
        return f"{UNRESOLVED}{exc}"


_OPS = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
        ast.FloorDiv: lambda a, b: a // b, ast.Pow: lambda a, b: a ** b, ast.LShift: lambda a, b: a << b}


def _value(expr: ast.expr, names: dict, attributes: dict, depth: int) -> object:
    """The constant value of `expr`; ValueError(the expression as far as it was followed) otherwise."""
    if depth > 8:
        raise ValueError(ast.unparse(expr))
    if isinstance(expr, ast.Constant) and isinstance(expr.value, (int, float, str, bool)):
        return expr.value
    target = None
    if isinstance(expr, ast.Name) and expr.id in names:
        target = names[expr.id]
    elif isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name) and expr.value.id == "self" \
            and expr.attr in attributes:
        target = attributes[expr.attr]
    if target is not None:
        try:
            return _value(target, names, attributes, depth + 1)
        except ValueError:
            raise ValueError(ast.unparse(target)) from None
    if isinstance(expr, ast.BinOp) and type(expr.op) in _OPS:
        try:
            left = _value(expr.left, names, attributes, depth + 1)
            right = _value(expr.right, names, attributes, depth + 1)
            if isinstance(left, int) and isinstance(right, int) and not (isinstance(expr.op, ast.Pow) and right > 64):
                return _OPS[type(expr.op)](left, right)
        except (ValueError, ZeroDivisionError):
            pass
    if isinstance(expr, ast.Tuple):
        return [_value(e, names, attributes, depth + 1) for e in expr.elts]
    raise ValueError(ast.unparse(expr))
