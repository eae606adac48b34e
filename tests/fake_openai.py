"""A local fake OpenAI-compatible chat endpoint serving scripted R1-style answers.

    with FakeOpenAI([Answer(code=SRC, reasoning="...", style="field"), Answer(status=500)]) as fake:
        coder = LLMCoder(base_url=fake.base_url, api_key="test")
        ...
        fake.prompts()   # the user messages it received, in order

Each answer is served once, in order (a callable `fn(request_json) -> Answer` is called instead).
Reasoning goes into a `reasoning_content` field (style "field") or inline between <think> tags
(style "think"; "think_open" omits the opening tag as some servers do). Failures: an HTTP status,
a hang (sleep before answering), or content without any code block. When the script runs out the
server answers HTTP 503 "script exhausted".

Streaming (`"stream": true`, as the client sends): the answer goes out as server-sent events, the
reasoning first (as `reasoning_content` deltas, or inline), then the content in `chunks` pieces,
then the finish reason, the usage (when `stream_options.include_usage`) and `[DONE]`. A stream can
also misbehave on purpose: `stall=True` sends the pieces and then holds the connection silent until
the fake is closed (an event, no sleep); `endless=True` follows them with filler tokens for as long
as the client reads (`fake.disconnects` counts the clients that hung up mid-stream).

Context window: `FakeOpenAI(n_ctx=512, announce="llama")` answers `GET /props` like llama.cpp
(`announce="vllm"`: `GET /v1/models` with `max_model_len`; None: neither says). With `n_ctx` set, a
request whose prompt (four characters a token) plus `max_tokens` exceeds it gets llama.cpp's HTTP 400
"exceeds the available context size", and consumes no scripted answer.
"""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Answer:
    """One scripted response of the fake endpoint."""

    content: str | None = None       # full answer text; built from `code` when None
    code: str | None = None          # wrapped in a ```python fence after a short sentence
    reasoning: str = "Let me think about the kernel."
    style: str = "field"             # field | think | think_open | none
    status: int = 200                # non-200: an error body is sent instead
    hang_s: float = 0.0              # sleep before answering (client timeouts)
    usage: tuple[int, int] | None = (1000, 500)  # (prompt, completion) tokens; None = no usage
    finish_reason: str = "stop"
    garbage: bool = False            # send a body that is not JSON
    chunks: int = 4                  # streamed: pieces the content is split into (1 = all at once)
    stall: bool = False              # streamed: go silent after the pieces until the fake closes
    endless: bool = False            # streamed: filler tokens after the pieces until the client hangs up

    def body_text(self) -> str:
        answer = self.content
        if answer is None:
            answer = f"Here is the kernel.\n\n```python\n{self.code or ''}\n```\n" if self.code else "Done."
        if self.style == "think":
            return f"<think>\n{self.reasoning}\n</think>\n\n{answer}"
        if self.style == "think_open":
            return f"{self.reasoning}\n</think>\n\n{answer}"
        return answer


Script = list[Answer | Callable[[dict], Answer]]


class FakeOpenAI:
    """The server, run in a daemon thread on 127.0.0.1 with a free port."""

    def __init__(self, script: Script | None = None, model: str = "fake-r1", n_ctx: int | None = None,
                 announce: str | None = "llama", slots: int | None = None) -> None:
        self.script: Script = list(script or [])
        self.model = model
        self.n_ctx = n_ctx
        self.slots = slots  # llama.cpp's total_slots in /props (answered when n_ctx or slots is set)
        self.announce = announce if (n_ctx or slots) else None
        self.in_flight = 0
        self.max_in_flight = 0  # the most chat requests the server was answering at once
        self.gets: list[str] = []
        self.refused: list[dict[str, Any]] = []  # requests refused for exceeding the context
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.disconnects = 0  # streamed answers the client stopped reading before the end
        self.hung_up = threading.Event()  # set at the first such disconnect
        self.closing = threading.Event()  # set by close(): stalled streams end
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        self.closing.set()
        self._server.shutdown()
        self._server.server_close()

    def add(self, *answers: Answer | Callable[[dict], Answer]) -> None:
        with self._lock:
            self.script.extend(answers)

    def prompts(self) -> list[str]:
        """The last user message of every request, in arrival order."""
        return [_last_user(r) for r in self.requests]

    def _next(self, request: dict) -> Answer | None:
        with self._lock:
            self.requests.append(request)
            if not self.script:
                return None
            item = self.script.pop(0)
        return item(request) if callable(item) else item

    def _response(self, answer: Answer, request: dict) -> dict:
        message: dict[str, Any] = {"role": "assistant", "content": answer.body_text()}
        if answer.style == "field":
            message["reasoning_content"] = answer.reasoning
        body: dict[str, Any] = {
            "id": f"chatcmpl-fake-{len(self.requests)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": request.get("model", self.model),
            "choices": [{"index": 0, "message": message, "finish_reason": answer.finish_reason}],
        }
        if answer.usage is not None:
            prompt, completion = answer.usage
            body["usage"] = {"prompt_tokens": prompt, "completion_tokens": completion,
                             "total_tokens": prompt + completion}
        return body


def prompt_tokens(request: dict) -> int:
    """The fake's token count of a request's messages: four characters a token."""
    return sum(len(m.get("content") or "") for m in request.get("messages", [])) // 4


def _last_user(request: dict) -> str:
    users = [m for m in request.get("messages", []) if m.get("role") == "user"]
    content = users[-1].get("content", "") if users else ""
    return content if isinstance(content, str) else json.dumps(content)


def _handler_for(fake: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:  # keep test output quiet
            pass

        def _send(self, status: int, payload: bytes, content_type: str = "application/json") -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except OSError:  # the client gave up (timeout) before we answered
                pass

        def _error(self, status: int, message: str) -> None:
            body = {"error": {"message": message, "type": "fake_error", "code": status}}
            self._send(status, json.dumps(body).encode())

        def do_GET(self) -> None:  # noqa: N802 - http.server naming
            fake.gets.append(self.path)
            path = self.path.rstrip("/")
            if path == "/props" and fake.announce == "llama":
                body = {"default_generation_settings": {"n_ctx": fake.n_ctx}, "total_slots": fake.slots or 1}
                self._send(200, json.dumps(body).encode())
            elif path == "/v1/models":
                entry: dict[str, Any] = {"id": fake.model, "object": "model"}
                if fake.announce == "vllm":
                    entry["max_model_len"] = fake.n_ctx
                self._send(200, json.dumps({"object": "list", "data": [entry]}).encode())
            else:
                self._error(404, f"no route {self.path}")

        def do_POST(self) -> None:  # noqa: N802 - http.server naming
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if not self.path.rstrip("/").endswith("/chat/completions"):
                self._error(404, f"no route {self.path}")
                return
            try:
                request = json.loads(raw or b"{}")
            except json.JSONDecodeError:
                self._error(400, "body is not JSON")
                return
            fake.headers.append({k.lower(): v for k, v in self.headers.items()})
            if fake.n_ctx is not None:
                needed = prompt_tokens(request) + int(request.get("max_tokens") or 0)
                if needed > fake.n_ctx:
                    with fake._lock:
                        fake.refused.append(request)
                    self._error(400, f"request ({needed} tokens) exceeds the available context size "
                                     f"({fake.n_ctx} tokens), try increasing it")
                    return
            answer = fake._next(request)
            if answer is None:
                self._error(503, "script exhausted")
                return
            with fake._lock:
                fake.in_flight += 1
                fake.max_in_flight = max(fake.max_in_flight, fake.in_flight)
            try:
                self._answer(answer, request)
            finally:
                with fake._lock:
                    fake.in_flight -= 1

        def _answer(self, answer: Answer, request: dict) -> None:
            if answer.hang_s:
                time.sleep(answer.hang_s)
            if answer.status != 200:
                self._error(answer.status, f"scripted failure {answer.status}")
            elif request.get("stream"):
                try:
                    _stream(self, fake, answer, request)
                except OSError:  # the client hung up mid-stream (it stopped on a stall, a cap or its budget)
                    with fake._lock:
                        fake.disconnects += 1
                    fake.hung_up.set()
                self.close_connection = True
            elif answer.garbage:
                self._send(200, b"<html>not json</html>")
            else:
                self._send(200, json.dumps(fake._response(answer, request)).encode())

    return Handler


def _event(payload: dict | str) -> bytes:
    return f"data: {payload if isinstance(payload, str) else json.dumps(payload)}\n\n".encode()


def _stream(handler: BaseHTTPRequestHandler, fake: FakeOpenAI, answer: Answer, request: dict) -> None:
    """Send `answer` as server-sent events (see the module docstring); OSError when the client hangs up."""
    handler.send_response(200)
    handler.send_header("Content-Type", "text/event-stream")
    handler.send_header("Connection", "close")
    handler.end_headers()
    base = {"id": f"chatcmpl-fake-{len(fake.requests)}", "object": "chat.completion.chunk",
            "created": int(time.time()), "model": request.get("model", fake.model)}

    def chunk(delta: dict, finish: str | None = None) -> bytes:
        return _event({**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})

    if answer.garbage:
        handler.wfile.write(b"data: <html>not json</html>\n\n")
        return
    text = answer.body_text()
    head = chunk({"role": "assistant", "content": ""})
    if answer.style == "field" and answer.reasoning:
        head += chunk({"reasoning_content": answer.reasoning})
    size = max(1, -(-len(text) // max(1, answer.chunks)))
    pieces = b"".join(chunk({"content": text[i:i + size]}) for i in range(0, len(text), size))
    handler.wfile.write(head + pieces)  # one write: the client gets all pieces at once
    handler.wfile.flush()
    if answer.stall:
        fake.closing.wait()
        return
    while answer.endless and not fake.closing.is_set():
        handler.wfile.write(chunk({"content": " more"}))
        handler.wfile.flush()
    tail = chunk({}, answer.finish_reason)
    if answer.usage is not None and (request.get("stream_options") or {}).get("include_usage"):
        prompt, completion = answer.usage
        tail += _event({**base, "choices": [], "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                                                         "total_tokens": prompt + completion}})
    handler.wfile.write(tail + _event("[DONE]"))
    handler.wfile.flush()
