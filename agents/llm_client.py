"""A chat client for any OpenAI-compatible endpoint, tuned for DeepSeek-R1.

Built on `langchain_deepseek.ChatDeepSeek`, which keeps the `reasoning_content` field (it lands in
`AIMessage.additional_kwargs["reasoning_content"]`) and accepts any base URL. Answers are streamed
(`agents/llm_stream.py`): a call ends on a stall, on the per-answer cap or at the run's deadline, and
keeps what arrived. The client retries 5xx, rate-limit, connection errors and a missing first token
with exponential back-off (never past the deadline), then raises `EndpointError`; it never falls
back to another model.
"""
from __future__ import annotations

import os
import re
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from kernelwright.agents.llm_parse import estimate_tokens, split_reasoning
from kernelwright.agents.llm_stream import FirstTokenTimeout, Limits, Streamed, read_stream
from pydantic import BaseModel, Field, SecretStr, model_validator

DEFAULT_MODEL = "deepseek-ai/deepseek-r1"
KEY_ENV_VARS = ("KERNELWRIGHT_API_KEY", "NVIDIA_API_KEY", "DEEPSEEK_API_KEY", "OPENAI_API_KEY")
DEFAULT_CONTEXT_TOKENS = 8192  # when neither the config nor the server says (llama.cpp's usual -c)
PROBE_TIMEOUT_S = 5.0


class EndpointError(RuntimeError):
    """The model endpoint cannot be used (no key, unreachable, refused); one line for the user."""


class ContextExceeded(EndpointError):
    """HTTP 400: prompt plus answer cap did not fit the model's context. `limit`: the size the server named."""

    def __init__(self, message: str, limit: int | None = None) -> None:
        super().__init__(message)
        self.limit = limit


class LLMConfig(BaseModel):
    """Where and how to ask the model. R1 defaults: temperature 0.6, top_p 0.95."""

    base_url: str                    # required: problem text goes only to an endpoint the user chose
    model: str = DEFAULT_MODEL
    api_key: SecretStr | None = None
    api_key_env: str | None = None   # extra env var name to try first
    temperature: float = 0.6
    top_p: float = 0.95
    max_answer_tokens: int = Field(16384, gt=0)  # cap on one answer (lowered further to fit the context window)
    stall_s: float = Field(120.0, gt=0)  # end an answer when no token came for this long (its text is kept)
    context_tokens: int | None = None  # the model's context window; None = ask the server, else 8192
    max_concurrency: int | None = None  # requests in flight to this endpoint; None = the server's slots, else no cap
    timeout_s: float = Field(600.0, gt=0)  # per request: connect and wait for the first token (prompt reading)
    tries: int = 3                   # attempts per request on retryable errors
    backoff_s: float = 2.0           # first wait; doubles after each failed try

    @model_validator(mode="before")
    @classmethod
    def _old_names(cls, values: Any) -> Any:
        """`max_tokens` (the old name of `max_answer_tokens` in coder_options) still works."""
        if isinstance(values, dict) and "max_tokens" in values:
            values = dict(values)
            old = values.pop("max_tokens")
            values.setdefault("max_answer_tokens", old)
        return values

    @classmethod
    def from_env(cls, **overrides: Any) -> LLMConfig:
        """Config from KERNELWRIGHT_BASE_URL / KERNELWRIGHT_MODEL, then explicit overrides (None ignored)."""
        values: dict[str, Any] = {}
        if os.environ.get("KERNELWRIGHT_BASE_URL"):
            values["base_url"] = os.environ["KERNELWRIGHT_BASE_URL"]
        if os.environ.get("KERNELWRIGHT_MODEL"):
            values["model"] = os.environ["KERNELWRIGHT_MODEL"]
        values.update({k: v for k, v in overrides.items() if v is not None})
        if not values.get("base_url"):
            raise EndpointError("no LLM endpoint: pass base_url (--base-url) or set KERNELWRIGHT_BASE_URL; "
                                "there is no default, so problem text only goes where you say")
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
    cap: int | None = None   # the per-answer token cap this call was sent with
    cut: str = ""            # why the answer is partial: stall | cap | budget ("" = it ended by itself)

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class ChatClient:
    """Sends one user message and returns a `Reply`; retries, then raises EndpointError."""

    def __init__(self, config: LLMConfig, sleep: Any = time.sleep, clock: Any = time.time) -> None:
        self.config = config
        self._sleep = sleep
        self._clock = clock  # the clock of `deadline` (time.time: the run's budget is wall-clock)
        self._model: Any = None
        self._context: int | None = config.context_tokens
        self.context_source = "config" if config.context_tokens else ""

    def context_size(self) -> int:
        """The model's context window: config, else the server (llama.cpp /props, vLLM /v1/models), else 8192."""
        if self._context is None:
            learned = probe_context(self.config)
            self._context = learned or DEFAULT_CONTEXT_TOKENS
            self.context_source = "server" if learned else "default"
        return self._context

    def learn_context(self, limit: int) -> None:
        """Remember a smaller context size named by the server in a context-length refusal."""
        self._context, self.context_source = limit, "server refusal"

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
                max_tokens=self.config.max_answer_tokens, max_retries=0,  # retries are ours: bounded, visible
                timeout=max(self.config.timeout_s, self.config.stall_s),  # per read; the stream reader is stricter
            )
        return self._model

    def complete(self, prompt: str, history: list[tuple[str, str]] | None = None,
                 max_tokens: int | None = None, deadline: float | None = None) -> Reply:
        """Ask once (with bounded retries) and stream the answer. `history` holds earlier (role, text) turns,
        `max_tokens` caps the answer, `deadline` (on the client's clock) is when the run's budget ends:
        past it no call starts, and a call in flight stops there with what it has (`Reply.cut` = "budget")."""
        messages = [*(history or []), ("user", prompt)]
        cap = max_tokens or self.config.max_answer_tokens
        start = self._clock()
        if deadline is not None and start >= deadline:
            return _budget_reply(cap)
        model = self._chat_model()
        last = ""
        gate = endpoint_gate(self.config)
        limits = Limits(self.config.timeout_s, self.config.stall_s, cap, deadline)
        for attempt in range(1, max(1, self.config.tries) + 1):
            left = None if deadline is None else deadline - self._clock()
            if (left is not None and left <= 0) or not gate.acquire(timeout=left):
                return _budget_reply(cap, tries=attempt - 1)
            try:
                streamed = read_stream(lambda: model.stream(messages, max_tokens=cap, stream_usage=True),
                                       limits, self._clock)
            except Exception as exc:  # noqa: BLE001 - sorted into retryable or not below
                limit = _context_refusal(exc)
                if limit is not None:
                    raise ContextExceeded(_classify(exc, self.config)[1], limit or None) from None
                retryable, last = _classify(exc, self.config)
                if not retryable:
                    raise EndpointError(last) from None
                if attempt < self.config.tries:
                    wait = self.config.backoff_s * 2 ** (attempt - 1)
                    self._sleep(wait if deadline is None else max(0.0, min(wait, deadline - self._clock())))
                continue
            finally:
                gate.release()
            reply = _to_reply(streamed, messages, attempt, self._clock() - start)
            reply.cap = cap
            return reply
        raise EndpointError(f"{last} (gave up after {self.config.tries} tries)")


def _budget_reply(cap: int, tries: int = 0) -> Reply:
    """The reply of a call the run's deadline prevented: no answer, nothing spent."""
    return Reply("", "", "", 0, 0, True, None, tries, 0.0, cap=cap, cut="budget")


def _to_reply(streamed: Streamed, messages: list, tries: int, elapsed: float) -> Reply:
    content = "".join(streamed.content)
    field = "".join(streamed.reasoning) or None
    reasoning, answer = split_reasoning(content, field)
    usage = streamed.usage or {}
    prompt_tokens = int(usage.get("input_tokens") or 0)
    completion_tokens = int(usage.get("output_tokens") or 0)
    estimated = not usage
    if estimated:
        prompt_tokens = sum(estimate_tokens(text) for _, text in messages)
        completion_tokens = max(streamed.tokens, estimate_tokens(content) + estimate_tokens(field or ""))
    finish = streamed.finish_reason
    cut = streamed.cut or ("cap" if finish == "length" else "")
    return Reply(content, reasoning, answer, prompt_tokens, completion_tokens, estimated, finish, tries, elapsed,
                 cut=cut)


_LIMIT_PATTERNS = (
    re.compile(r"available context size \((\d+) tokens\)"),    # llama.cpp
    re.compile(r"maximum context length is (\d+) tokens"),       # vLLM, OpenAI
    re.compile(r"max_model_len[^\d]{0,20}(\d+)"),
)


def _context_refusal(exc: Exception) -> int | None:
    """For an HTTP 400 saying the context is exceeded: the limit it names, or 0 when it names none; else None."""
    if getattr(exc, "status_code", None) != 400:
        return None
    text = str(getattr(exc, "message", "") or exc)
    lowered = text.lower()
    if "context" not in lowered and "max_model_len" not in lowered:
        return None
    if not any(word in lowered for word in ("exceed", "maximum context", "too long", "max_model_len")):
        return None
    for pattern in _LIMIT_PATTERNS:
        match = pattern.search(text)
        if match:
            return int(match.group(1))
    return 0


_GATES: dict[str, Any] = {}
_GATES_LOCK = threading.Lock()


def endpoint_gate(config: LLMConfig) -> Any:
    """The semaphore shared by every client of this endpoint (a fanout's parallel candidates included):
    `max_concurrency`, else the server's slot count (llama.cpp /props total_slots), else no limit."""
    with _GATES_LOCK:
        if config.base_url not in _GATES:
            limit = config.max_concurrency or probe_slots(config)
            _GATES[config.base_url] = threading.BoundedSemaphore(limit) if limit else _NoGate()
        return _GATES[config.base_url]


class _NoGate:
    def acquire(self, timeout: float | None = None) -> bool:
        return True

    def release(self) -> None:
        return None


def _server_client(config: LLMConfig) -> Any:
    """An HTTP client for the endpoint's side routes (/props, /v1/models), with the key when there is one."""
    import httpx

    try:
        headers = {"Authorization": f"Bearer {config.resolve_key()}"}
    except EndpointError:
        headers = {}
    return httpx.Client(timeout=PROBE_TIMEOUT_S, headers=headers)


def _props(http: Any, config: LLMConfig) -> dict[str, Any]:
    """llama.cpp's GET /props (the server root, not /v1); {} when the server has no such route."""
    props = http.get(f"{config.base_url.rstrip('/').removesuffix('/v1')}/props")
    body = props.json() if props.status_code == 200 else {}
    return body if isinstance(body, dict) else {}


def probe_slots(config: LLMConfig) -> int | None:
    """Parallel request slots the server announces (llama.cpp /props `total_slots`); None if it does not say."""
    import httpx

    try:
        with _server_client(config) as http:
            slots = _props(http, config).get("total_slots")
    except (httpx.HTTPError, ValueError, AttributeError):
        return None
    return slots if isinstance(slots, int) and slots > 0 else None


def probe_context(config: LLMConfig) -> int | None:
    """Ask the server for its context window; None when it does not say (or cannot be reached)."""
    import httpx

    try:
        with _server_client(config) as http:
            body = _props(http, config)
            n_ctx = (body.get("default_generation_settings") or {}).get("n_ctx") or body.get("n_ctx")
            if isinstance(n_ctx, int) and n_ctx > 0:
                return n_ctx
            models = http.get(f"{config.base_url.rstrip('/')}/models")
            if models.status_code == 200:
                entries = [m for m in (models.json().get("data") or []) if isinstance(m, dict)]
                named = [m for m in entries if m.get("id") == config.model] or entries
                for entry in named:
                    if isinstance(entry.get("max_model_len"), int) and entry["max_model_len"] > 0:
                        return entry["max_model_len"]
    except (httpx.HTTPError, ValueError, AttributeError):
        return None
    return None


def _classify(exc: Exception, config: LLMConfig) -> tuple[bool, str]:
    """(retryable, one-line message) for an exception raised by the chat model."""
    import openai

    where = f"{config.base_url} (model {config.model})"
    if isinstance(exc, (openai.APITimeoutError, FirstTokenTimeout)):
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
