"""The LLM coder's per-answer limits on `kernelwright run`: --max-answer-tokens and --stall.

They land in the run's `coder_options` (beside a --config file's [coder_options], which they
override) as `max_answer_tokens` and `stall_s`; see agents/llm_client.py `LLMConfig`.
"""
from __future__ import annotations

from typing import Any

from kernelwright.agents.llm_prompt import MIN_ANSWER_TOKENS
from kernelwright.config import parse_budget

MAX_ANSWER_HELP = (f"LLM coder: cap on one answer, in tokens (at least {MIN_ANSWER_TOKENS}); "
                   "lowered further to fit the model's context.  [default: 16384]")
STALL_HELP = ("LLM coder: end an answer when no token came for this long (seconds or 30s, 2m); "
              "what arrived is kept and used if it holds a complete code block.  [default: 2m]")


def answer_limits(max_answer_tokens: int | None, stall: str | None, file_options: dict[str, Any]) -> dict[str, Any]:
    """`file_options` with `coder_options` updated by the flags given; ValueError (one line) on bad values."""
    limits: dict[str, Any] = {}
    if max_answer_tokens is not None:
        if max_answer_tokens < MIN_ANSWER_TOKENS:
            raise ValueError(f"--max-answer-tokens {max_answer_tokens} is too small: an answer needs room for a "
                             f"whole kernel, so pass at least {MIN_ANSWER_TOKENS}")
        limits["max_answer_tokens"] = max_answer_tokens
    if stall is not None:
        limits["stall_s"] = parse_budget(stall, "--stall")
    if not limits:
        return file_options
    return {**file_options, "coder_options": {**(file_options.get("coder_options") or {}), **limits}}
