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



def launch_settings(source: str) -> dict[str, str]:
    """Keyword arguments of `kernel[grid](...)` launches (BLOCK=..., num_warps=...) as written.

    Recorded in the attempt's meta so that later prompts can list the configurations tried.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}
    settings: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Subscript):
            for kw in node.keywords:
                if kw.arg:
                    settings[kw.arg] = ast.unparse(kw.value)
    return settings
