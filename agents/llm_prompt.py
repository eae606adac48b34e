"""Assemble the single user message for an LLM coder from a `CodeRequest` and `prompts.py`."""
from __future__ import annotations

import json
import re

from kernelwright.agents import prompts as P
from kernelwright.agents.coder import CodeRequest

_RELPOS = re.compile(r"q_idx\s*-\s*kv_idx")
_PARENT_FIRST = {"fix_compile_error", "fix_numerics", "fix_runtime_error", "optimise_memory",
                 "optimise_compute", "tune_launch_config", "switch_backend"}
MAX_TRIED = 20
_BOOKKEEPING = {"llm", "fatal", "tools"}  # meta keys that say nothing about the kernel


def build_prompt(request: CodeRequest) -> str:
    """Task header, then the strategy's section (with feedback), then the output contract."""
    header = P.TASK_HEADER.format(
        problem_name=request.problem_name,
        description=request.description or "(no description: read the reference)",
        problem_source=request.problem_source.strip(),
        backend_note=P.BACKEND_NOTES.get(request.backend, request.backend),
    )
    body = _strategy_section(request)
    notes = ""
    if request.instructions.strip() and request.strategy in P.STRATEGY_TEMPLATES:
        notes = P.STRATEGY_NOTES.format(instructions=request.instructions.strip())
    return "\n".join(part for part in (header, body, notes, P.OUTPUT_CONTRACT) if part)


def reask_prompt(reason: str) -> str:
    """Follow-up message after an unusable answer, saying what was wrong."""
    return P.REASK.format(reason=reason)


def uses_attention_seed(request: CodeRequest) -> bool:
    """First drafts of relative-positional attention problems start from the seed prompt."""
    if request.metadata.get("prompt") == "attention_relpos":
        return True
    functions = request.metadata.get("functions") or []
    return "score_mod" in functions and bool(_RELPOS.search(request.problem_source))


def _strategy_section(request: CodeRequest) -> str:
    values = {
        "parent_source": _parent(request),
        "feedback": request.feedback.strip() or P.NO_FEEDBACK,
        "tried": _tried(request),
        "backend": request.backend,
        "strategy": request.strategy,
        "instructions": request.instructions.strip() or "improve the kernel",
        "diversity_note": _diversity(request),
    }
    if request.strategy == "first_draft" and uses_attention_seed(request):
        return P.ATTENTION_SEED.format(**values)
    template = P.STRATEGY_TEMPLATES.get(request.strategy, P.GENERIC_TEMPLATE)
    return template.format(**values)


def _parent(request: CodeRequest) -> str:
    if request.strategy in _PARENT_FIRST:
        source = request.parent_source or request.best_source
    else:
        source = request.best_source or request.parent_source
    return (source or P.NO_PARENT).strip()


def _tried(request: CodeRequest) -> str:
    if not request.tried:
        return P.NO_TRIED
    entries = [{k: v for k, v in item.items() if k not in _BOOKKEEPING} for item in request.tried]
    entries = [e for e in entries if set(e) - {"id"}]
    if not entries:
        return P.NO_TRIED
    lines = [f"- {json.dumps(e, sort_keys=True, default=str)}" for e in entries[-MAX_TRIED:]]
    if len(entries) > MAX_TRIED:
        lines.insert(0, f"(last {MAX_TRIED} of {len(entries)})")
    return "\n".join(lines)


def _diversity(request: CodeRequest) -> str:
    return P.DIVERSITY_NOTE.format(index=request.attempt_index + 1) if request.attempt_index > 0 else ""
