"""Assemble the single user message for an LLM coder from a `CodeRequest` and `prompts.py`."""
from __future__ import annotations

import ast
import dataclasses
import json

from kernelwright.agents import prompts as P
from kernelwright.agents.coder import CodeRequest
from kernelwright.agents.llm_contract import contract, example
from kernelwright.verifier import backward

_RELPOS = "score + (q_idx - kv_idx)"  # ast.unparse form of the seed's score_mod
_PARENT_FIRST = {"fix_compile_error", "fix_numerics", "fix_runtime_error", "optimise_memory",
                 "optimise_compute", "tune_launch_config", "switch_backend"}
MAX_TRIED = 20
_BOOKKEEPING = {"llm", "fatal", "tools", "repeat_of"}  # meta keys that say nothing about the kernel


def build_prompt(request: CodeRequest, with_example: bool = True) -> str:
    """Task header, the strategy's section (with feedback), one correct example, then the output contract."""
    header = P.TASK_HEADER.format(
        problem_name=request.problem_name,
        description=request.description or "(no description: read the reference)",
        problem_source=request.problem_source.strip(),
        backend_note=P.BACKEND_NOTES.get(request.backend, request.backend),
    )
    body = _strategy_section(request)
    if backward.declared(request.metadata):  # a training problem: the backward is verified and timed too
        body += P.BACKWARD_NOTE
    notes = ""
    if request.instructions.strip() and request.strategy in P.STRATEGY_TEMPLATES:
        notes = P.STRATEGY_NOTES.format(instructions=request.instructions.strip())
    shown = _parent(request) if "{parent_source}" in _template(request) else None
    sample = example(request, shown) if with_example else ""
    return "\n".join(part for part in (header, body, sample, notes, _repeats(request), contract(request)) if part)


def _repeats(request: CodeRequest) -> str:
    """Tell the model which of its answers repeated an earlier one word for word (last three)."""
    lines = [P.REPEATED.format(attempt=item["id"], earlier=item["repeat_of"])
             for item in request.tried if item.get("repeat_of") is not None and item.get("id") is not None]
    return "\n".join(lines[-3:])


SAFETY_TOKENS = 64        # chat template and role markers
MIN_ANSWER_TOKENS = 128   # below this an answer cannot hold a kernel: stop with a clear error instead


def count_tokens(text: str) -> int:
    """A deliberately high token estimate (three characters a token; code tokenises densely)."""
    return (len(text) + 2) // 3


def answer_room(context_tokens: int, *texts: str) -> int:
    """Tokens left for the answer once these message texts are in the context."""
    return context_tokens - SAFETY_TOKENS - sum(count_tokens(t) for t in texts)


def fit_prompt(request: CodeRequest, context_tokens: int, answer_cap: int) -> tuple[str, int, int]:
    """(prompt, answer cap, trim steps) so that prompt + answer fit `context_tokens`.

    The answer wants min(answer_cap, a quarter of the context); to make room, the example kernel is
    dropped first, then the list of tried configurations and the feedback are trimmed oldest-first.
    The problem, the kernel to start from (parent or best) and the latest verdict line are always kept.
    """
    want = min(answer_cap, max(MIN_ANSWER_TOKENS * 2, context_tokens // 4))
    steps, with_example = 0, True
    prompt = build_prompt(request)
    while answer_room(context_tokens, prompt) < want:
        smaller = None if with_example else _trim_once(request)
        if with_example:  # the example goes first: the kernel to start from and the verdict say more
            with_example = False
        elif smaller is None:
            break
        else:
            request = smaller
        steps += 1
        prompt = build_prompt(request, with_example)
    return prompt, min(answer_cap, answer_room(context_tokens, prompt)), steps


def _trim_once(request: CodeRequest) -> CodeRequest | None:
    """One step of trimming, oldest first: a tried entry, else a feedback line after the first."""
    if request.tried:
        return dataclasses.replace(request, tried=request.tried[1:])
    lines = request.feedback.strip().splitlines()
    if len(lines) > 2:
        return dataclasses.replace(request, feedback="\n".join([lines[0], "[... older feedback trimmed ...]",
                                                                *lines[3:]]))
    text = request.feedback.strip()
    if len(text) > 400:
        return dataclasses.replace(request, feedback=f"{text[:150]} [... trimmed ...] {text[-len(text) // 3:]}")
    return None


def reask_prompt(reason: str) -> str:
    """Follow-up message after an unusable answer, saying what was wrong."""
    return P.REASK.format(reason=reason)


def uses_attention_seed(request: CodeRequest) -> bool:
    """First drafts of relative-positional attention (score_mod = score + (q_idx - kv_idx)) use the seed."""
    if request.metadata.get("prompt") == "attention_relpos":
        return True
    if "score_mod" not in (request.metadata.get("functions") or []):
        return False
    return _function_returns(request.problem_source, "score_mod") == _RELPOS


def _function_returns(source: str, name: str) -> str | None:
    """The normalised expression a module-level function returns (its last return), or None."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            returns = [n for n in ast.walk(node) if isinstance(n, ast.Return) and n.value is not None]
            return ast.unparse(returns[-1].value) if returns else None
    return None


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
    functions = request.metadata.get("functions") or []
    if request.strategy == "first_draft" and uses_attention_seed(request):
        mask_note = P.ATTENTION_MASK_NOTE if "mask_mod" in functions else ""
        return P.ATTENTION_SEED.format(mask_note=mask_note, **values)
    text = _template(request).format(**values)
    if "score_mod" in functions or "mask_mod" in functions:
        text += P.ATTENTION_MOD_NOTE
    return text


def _template(request: CodeRequest) -> str:
    if request.strategy == "first_draft" and uses_attention_seed(request):
        return P.ATTENTION_SEED
    return P.STRATEGY_TEMPLATES.get(request.strategy, P.GENERIC_TEMPLATE)


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
