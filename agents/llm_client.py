"""A chat client for any OpenAI-compatible endpoint, tuned for DeepSeek-R1.

Built on `langchain_deepseek.ChatDeepSeek`, which keeps the `reasoning_content` field (it lands in
`AIMessage.additional_kwargs["reasoning_content"]`) and accepts any base URL. The client retries
5xx, rate-limit and connection errors with exponential back-off, then raises `EndpointError`;
it never falls back to another model.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from pydantic import BaseModel, SecretStr

from kernelwright.agents.llm_parse import estimate_tokens, split_reasoning

DEFAULT_BASE_URL = "https://integrate.api.nvidia.com/v1"
DEFAULT_MODEL = "deepseek-ai/deepseek-r1"
KEY_ENV_VARS = ("KERNELWRIGHT_API_KEY", "NVIDIA_API_KEY", "DEEPSEEK_API_KEY", "OPENAI_API_KEY")


class EndpointError(RuntimeError):
    """The model endpoint cannot be used (no key, unreachable, refused); one line for the user."""


class LLMConfig(BaseModel):
    """Where and how to ask the model. R1 defaults: temperature 0.6, top_p 0.95."""

    base_url: str = DEFAULT_BASE_URL
    model: str = DEFAULT_MODEL
    api_key: SecretStr | None = None
    api_key_env: str | None = None   # extra env var name to try first
    temperature: float = 0.6
    top_p: float = 0.95
    max_tokens: int = 16384
    timeout_s: float = 600.0         # per request
    tries: int = 3                   # attempts per request on retryable errors
    backoff_s: float = 2.0           # first wait; doubles after each failed try

    @classmethod
    def from_env(cls, **overrides: Any) -> "LLMConfig":
        """Config from KERNELWRIGHT_BASE_URL / KERNELWRIGHT_MODEL, then explicit overrides (None ignored)."""
        values: dict[str, Any] = {}
        if os.environ.get("KERNELWRIGHT_BASE_URL"):
            values["base_url"] = os.environ["KERNELWRIGHT_BASE_URL"]
        if os.environ.get("KERNELWRIGHT_MODEL"):
            values["model"] = os.environ["KERNELWRIGHT_MODEL"]
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def resolve_key(self) -> str:
        """The API key from the config or the environment; EndpointError when there is none."""
        if self.api_key and self.api_key.get_secret_value():
            return self.api_key.get_secret_value()
        names = list(dict.fromkeys(([self.api_key_env] if self.api_key_env else []) + list(KEY_ENV_VARS)))
        for name in names:
            if os.environ.get(name):
                return os.environ[name]
        raise EndpointError(
            f"no API key for {self.base_url}: set {' / '.join(names)} or pass api_key "
            "(a local server without auth accepts any value, e.g. KERNELWRIGHT_API_KEY=EMPTY)"
        )


@dataclass
class Reply:
    """One completed chat call, reasoning kept apart from the answer."""

    content: str
    reasoning: str
    answer: str
    prompt_tokens: int
    completion_tokens: int
    estimated: bool          # True when the endpoint reported no usage and we estimated
    finish_reason: str | None
    tries: int
    elapsed_s: float

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class ChatClient:
    """Sends one user message and returns a `Reply`; retries, then raises EndpointError."""

    def __init__(self, config: LLMConfig, sleep: Any = time.sleep) -> None:
        self.config = config
        self._sleep = sleep
        self._model: Any = None

    def _chat_model(self) -> Any:
        if self._model is None:
            key = self.config.resolve_key()
            _check_url(self.config.base_url)
            try:
                from langchain_deepseek import ChatDeepSeek
            except ImportError:
                raise EndpointError(
                    "the LLM coder needs langchain-deepseek: pip install 'kernelwright[llm]'"
                ) from None
            self._model = ChatDeepSeek(
                model=self.config.model, base_url=self.config.base_url, api_key=key,
                temperature=self.config.temperature, top_p=self.config.top_p,
                max_tokens=self.config.max_tokens, timeout=self.config.timeout_s,
                max_retries=0,  # retries are ours, so they are bounded and visible
            )
        return self._model

    def complete(self, prompt: str, history: list[tuple[str, str]] | None = None) -> Reply:
        """Ask once (with bounded retries). `history` holds earlier (role, text) turns."""
        messages = [*(history or []), ("user", prompt)]
        model = self._chat_model()
        start = time.monotonic()
        last = ""
        for attempt in range(1, max(1, self.config.tries) + 1):
            try:
                message = model.invoke(messages)
            except Exception as exc:  # noqa: BLE001 - sorted into retryable or not below
                retryable, last = _classify(exc, self.config)
                if not retryable:
                    raise EndpointError(last) from None
                if attempt < self.config.tries:
                    self._sleep(self.config.backoff_s * 2 ** (attempt - 1))
                continue
            return _to_reply(message, prompt, messages, attempt, time.monotonic() - start)
        raise EndpointError(f"{last} (gave up after {self.config.tries} tries)")


def _to_reply(message: Any, prompt: str, messages: list, tries: int, elapsed: float) -> Reply:
    content = message.content if isinstance(message.content, str) else _text_of(message.content)
    field = (message.additional_kwargs or {}).get("reasoning_content")
    reasoning, answer = split_reasoning(content, field if isinstance(field, str) else None)
    usage = getattr(message, "usage_metadata", None) or {}
    prompt_tokens = int(usage.get("input_tokens") or 0)
    completion_tokens = int(usage.get("output_tokens") or 0)
    estimated = not usage
    if estimated:
        prompt_tokens = sum(estimate_tokens(text) for _, text in messages)
        completion_tokens = estimate_tokens(content) + estimate_tokens(field or "")
    finish = (message.response_metadata or {}).get("finish_reason")
    return Reply(content, reasoning, answer, prompt_tokens, completion_tokens, estimated, finish, tries, elapsed)


def _text_of(blocks: list) -> str:
    return "".join(b.get("text", "") if isinstance(b, dict) else str(b) for b in blocks)


def _classify(exc: Exception, config: LLMConfig) -> tuple[bool, str]:
    """(retryable, one-line message) for an exception raised by the chat model."""
    import openai

    where = f"{config.base_url} (model {config.model})"
    if isinstance(exc, openai.APITimeoutError):
        return True, f"endpoint {where} did not answer within {config.timeout_s:g} s"
    if isinstance(exc, openai.APIConnectionError):
        return True, f"cannot reach endpoint {where}: check --base-url and that the server is up"
    if isinstance(exc, openai.APIStatusError):
        code = exc.status_code
        brief = _first_line(getattr(exc, "message", "") or str(exc))
        if code == 429 or code >= 500:
            return True, f"endpoint {where} answered HTTP {code}: {brief}"
        if code in (401, 403):
            return False, f"endpoint {where} refused the API key (HTTP {code}): check KERNELWRIGHT_API_KEY"
        if code == 404:
            return False, f"endpoint {where} answered HTTP 404: check --base-url (it should end in /v1) and --model"
        return False, f"endpoint {where} rejected the request (HTTP {code}): {brief}"
    if isinstance(exc, ValueError):  # includes JSONDecodeError: a garbled answer from the server
        return True, f"endpoint {where} sent an unreadable answer: {_first_line(str(exc))}"
    return False, f"calling endpoint {where} failed: {type(exc).__name__}: {_first_line(str(exc))}"


def _first_line(text: str) -> str:
    return (text.strip().splitlines() or [""])[0][:300]


def _check_url(url: str) -> None:
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise EndpointError(f"base URL {url!r} is not an http(s) URL: pass e.g. --base-url http://127.0.0.1:8000/v1")
