"""The LLM coder (registered as "llm"): asks an OpenAI-compatible endpoint for a `ModelNew` file.

One `generate` call = one prompt, plus at most one re-ask when the answer holds no usable code.
The model's reasoning is kept apart from its answer. Every prompt, reply, reasoning text and
candidate is written under `<artifacts_dir>/llm/` so any result can be traced and reproduced.
Endpoint failures raise `EndpointError` (never a silent switch to another coder).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from kernelwright.agents.coder import CodeRequest, CodeResult
from kernelwright.agents.llm_client import (
    ChatClient,
    ContextExceeded,
    EndpointError,
    LLMConfig,
    Reply,
)
from kernelwright.agents.llm_cuts import budget_note, cut_hint, truncation_warning
from kernelwright.agents.llm_parse import extract_code, launch_settings
from kernelwright.agents.llm_prompt import (
    MIN_ANSWER_TOKENS,
    answer_room,
    count_tokens,
    fit_prompt,
    reask_prompt,
)
from kernelwright.graph.plugins import register
from kernelwright.verifier.problem import source_sha

__all__ = ["LLMCoder", "LLMConfig", "EndpointError"]

_CONFIG_KEYS = set(LLMConfig.model_fields) | {"max_tokens"}  # old name of max_answer_tokens, still accepted


@register("coder", "llm")
class LLMCoder:
    """Coder backed by a chat model (DeepSeek-R1 by default) on any OpenAI-compatible endpoint.

    `LLMCoder(ctx)` accepts the graph's `Context` (model, base_url, api_key_env, coder_options);
    `LLMCoder(LLMConfig(...))` or `LLMCoder(base_url=..., model=...)` work too.
    """

    name = "llm"

    def __init__(self, config: Any = None, *, client: ChatClient | None = None, **options: Any) -> None:
        if config is not None and not isinstance(config, LLMConfig):
            config = config_from_context(config)
        if config is None:
            config = LLMConfig.from_env(**options)
        elif options:
            config = config.model_copy(update={k: v for k, v in options.items() if v is not None})
        self.config: LLMConfig = config
        self.client = client or ChatClient(config)

    def _ask_fitted(self, request: CodeRequest, files: _Artifacts, fit: dict[str, Any]) -> tuple[str, Reply]:
        """Fit prompt + answer cap to the context window and ask; on a context refusal, shrink and ask once more."""
        context = self.client.context_size()
        for retry in (False, True):
            prompt, cap, trimmed = fit_prompt(request, context, self.config.max_answer_tokens)
            fit.update(context_tokens=context, context_source=self.client.context_source,
                       answer_cap=cap, prompt_trimmed=trimmed, context_retry=retry)
            files.write("prompt.md", prompt)
            if cap < MIN_ANSWER_TOKENS:
                raise EndpointError(
                    f"the prompt (about {count_tokens(prompt)} tokens) leaves no room for an answer in the model's "
                    f"{context}-token context ({self.client.context_source}): start the server with a larger context "
                    "(llama.cpp -c, vLLM --max-model-len) or set coder_options.context_tokens")
            try:
                return prompt, self.client.complete(prompt, max_tokens=cap, deadline=request.deadline)
            except ContextExceeded as exc:
                if retry:
                    raise
                context = exc.limit if exc.limit and exc.limit < context else context * 3 // 4
                self.client.learn_context(context)
        raise AssertionError("unreachable")

    @classmethod
    def from_context(cls, ctx: Any) -> LLMCoder:
        """Build from the graph's runtime `Context` (or any object with the same attributes)."""
        return cls(config_from_context(ctx))

    def generate(self, request: CodeRequest) -> CodeResult:
        """Ask for a candidate; re-ask once when the answer is malformed. Raises EndpointError."""
        files = _Artifacts(request)
        replies: list[Reply] = []
        fit: dict[str, Any] = {}
        try:
            prompt, reply = self._ask_fitted(request, files, fit)
            replies.append(reply)
            files.reply(1, replies[-1])
            source, reason = extract_code(replies[-1].answer)
            if source is None and reply.cut != "budget":
                reason = _with_cutoff_hint(reason, replies[-1])
                followup = reask_prompt(reason)
                files.write("reask.md", followup)
                history = [("user", prompt), ("assistant", replies[-1].answer or "(empty answer)")]
                room = answer_room(self.client.context_size(), prompt, history[1][1], followup)
                if room < MIN_ANSWER_TOKENS:  # the first exchange fills the context: re-ask on its own
                    history, followup = [], f"{prompt}\n\n{followup}"
                    room = answer_room(self.client.context_size(), followup)
                cap = max(MIN_ANSWER_TOKENS, min(self.config.max_answer_tokens, room))
                replies.append(self.client.complete(followup, history=history, max_tokens=cap,
                                                    deadline=request.deadline))
                files.reply(2, replies[-1])
                source, second = extract_code(replies[-1].answer)
                if source is None:
                    reason = f"{reason}; after one re-ask: {_with_cutoff_hint(second, replies[-1])}"
        except EndpointError as exc:
            files.write("error.txt", f"{exc}\n")
            raise
        cut = replies[-1].cut
        if cut == "budget":  # the run is over: what arrived is kept on disk, not verified
            reason = budget_note(replies[-1], source is not None, files)
            if source is not None:
                files.write("unverified_candidate.py", source)
            source = None
        warning = truncation_warning(replies[0], prompt, files, request.tried)
        result = CodeResult(
            source=source,
            reasoning="\n\n---\n\n".join(r.reasoning for r in replies if r.reasoning),
            prompt=prompt,
            raw="\n\n---\n\n".join(r.content for r in replies),
            tokens=sum(r.tokens for r in replies),
            error=None if source else reason if cut == "budget" else "the model's answer held no "
                                                                     f"usable kernel: {reason}",
            meta={
                "llm": {
                    "model": self.config.model,
                    "calls": len(replies),
                    "prompt_tokens": sum(r.prompt_tokens for r in replies),
                    "completion_tokens": sum(r.completion_tokens for r in replies),
                    "tokens_estimated": any(r.estimated for r in replies),
                    "finish_reason": replies[-1].finish_reason,
                    "reasked": len(replies) > 1,
                    "cut": [r.cut for r in replies if r.cut],
                    **({"warning": warning} if warning else {}),
                    **fit,
                    "artifacts": files.folder_text,
                },
                "launch": launch_settings(source) if source else {},
            },
        )
        if source:
            files.write("candidate.py", source)
            sha = source_sha(source)
            result.meta["llm"]["candidate_sha"] = sha
            earlier = _attempt_with_sha(request.tried, sha)
            if earlier is not None:  # the verify node reuses attempt `earlier`'s verdict (see llm_prompt)
                result.meta["repeat_of"] = earlier
        return result


def config_from_context(ctx: Any) -> LLMConfig:
    """LLMConfig from a `Context`-like object: model, base_url, api_key_env, coder_options."""
    options = dict(getattr(ctx, "coder_options", None) or {})
    unknown = sorted(set(options) - _CONFIG_KEYS)
    if unknown:
        raise ValueError(f"unknown LLM coder option(s) {', '.join(unknown)}; known: {', '.join(sorted(_CONFIG_KEYS))}")
    for key in ("model", "base_url", "api_key_env"):
        value = getattr(ctx, key, None)
        if value is not None:
            options.setdefault(key, value)
    return LLMConfig.from_env(**options)


def _attempt_with_sha(tried: list[dict[str, Any]], sha: str) -> int | None:
    """Id of the earliest earlier attempt whose candidate had this source hash."""
    for item in tried:
        if ((item.get("llm") or {}).get("candidate_sha")) == sha and item.get("id") is not None:
            return int(item.get("repeat_of") or item["id"])
    return None


def _with_cutoff_hint(reason: str, reply: Reply) -> str:
    hint = cut_hint(reply)
    return f"{reason} ({hint})" if hint else reason


class _Artifacts:
    """Writes one attempt's prompt, replies, reasoning and candidate under <run dir>/llm/."""

    def __init__(self, request: CodeRequest) -> None:
        self.folder = Path(request.artifacts_dir) / "llm" if request.artifacts_dir else None
        if request.attempt_id is not None:
            self.stem = f"attempt_{request.attempt_id}"
        else:
            self.stem = f"iter_{request.iteration}_a{request.attempt_index}"
        self.folder_text = str(self.folder) if self.folder else None

    def write(self, name: str, text: str) -> None:
        if self.folder is None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / f"{self.stem}_{name}").write_text(text)

    def reply(self, n: int, reply: Reply) -> None:
        usage = "estimated" if reply.estimated else "reported"
        self.write(
            f"reply_{n}.md",
            f"<!-- tokens: prompt {reply.prompt_tokens}, completion {reply.completion_tokens} ({usage}); "
            f"finish_reason {reply.finish_reason}; tries {reply.tries}; {reply.elapsed_s:.2f} s"
            f"{f'; cut: {reply.cut}' if reply.cut else ''} -->\n"
            f"{reply.answer}\n",
        )
        self.write(f"reasoning_{n}.md", reply.reasoning + "\n")
