"""Read one streamed answer with bounded waits: first token, stall, per-answer cap, the run's deadline.

The chat model's stream is read in a helper thread that hands each chunk over a queue; the caller
waits in short slices, so it stops on time whatever the server does. When it stops early it tells
the helper, which closes the stream at the next chunk (the server sees the hang-up and stops
generating); a silent server is left to the HTTP read timeout. What arrived before the stop is
kept: `Streamed.cut` says why the answer is partial ("stall", "cap" or "budget"; "" = complete).
"""
from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

TICK_S = 0.2  # longest single wait: the clock (and so the deadline) is looked at least this often


class FirstTokenTimeout(Exception):
    """No token came within `Limits.first_token_s` of the request (retryable, like an HTTP timeout)."""


@dataclass
class Limits:
    """When to stop reading. Times are on the `clock` passed to `read_stream` (time.time by default)."""

    first_token_s: float            # wait for the first token (the server reads the prompt meanwhile)
    stall_s: float                  # longest silence between tokens once the answer has started
    cap: int                        # most answer tokens (streamed chunks with text) to read
    deadline: float | None = None   # the run's budget ends at this clock value


@dataclass
class Streamed:
    """What one stream delivered, complete or not."""

    content: list[str] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)  # a separate `reasoning_content` field
    usage: dict[str, Any] | None = None
    finish_reason: str | None = None
    tokens: int = 0   # chunks that carried text
    cut: str = ""     # "" | stall | cap | budget


def read_stream(open_stream: Callable[[], Iterable[Any]], limits: Limits,
                clock: Callable[[], float] = time.time) -> Streamed:
    """Read the chunks `open_stream()` yields (LangChain AIMessageChunks) within `limits`.

    Raises FirstTokenTimeout, or whatever the stream raised (before its end) for the caller to sort.
    """
    chunks: queue.Queue = queue.Queue()
    stop = threading.Event()
    threading.Thread(target=_pump, args=(open_stream, chunks, stop), daemon=True, name="llm-stream").start()
    out = Streamed()
    started, last = clock(), None
    try:
        while True:
            now = clock()
            if limits.deadline is not None and now >= limits.deadline:
                out.cut = "budget"
                return out
            if last is None:
                left = started + limits.first_token_s - now
                if left <= 0:
                    raise FirstTokenTimeout(f"no token within {limits.first_token_s:g} s")
            else:
                left = last + limits.stall_s - now
                if left <= 0:
                    out.cut = "stall"
                    return out
            if limits.deadline is not None:
                left = min(left, limits.deadline - now)
            try:
                kind, item = chunks.get(timeout=max(0.0, min(TICK_S, left)))
            except queue.Empty:
                continue
            if kind == "end":
                return out
            if kind == "error":
                raise item
            if _add(out, item):
                last = clock()
                if out.tokens > limits.cap:  # a server that ignores max_tokens
                    out.cut = "cap"
                    return out
    finally:
        stop.set()


def _pump(open_stream: Callable[[], Iterable[Any]], chunks: queue.Queue, stop: threading.Event) -> None:
    stream = None
    try:
        stream = iter(open_stream())
        for item in stream:
            chunks.put(("chunk", item))
            if stop.is_set():
                break
        chunks.put(("end", None))
    except BaseException as exc:  # noqa: BLE001 - handed to the reader, which sorts it
        chunks.put(("error", exc))
    finally:
        close = getattr(stream, "close", None)
        if close is not None:
            with contextlib.suppress(Exception):  # closing a broken stream may fail; nothing is left to save
                close()  # hangs up: the server stops generating an answer nobody reads


def _add(out: Streamed, chunk: Any) -> bool:
    """Fold one chunk into `out`; True when it carried answer or reasoning text (one token)."""
    content = chunk.content if isinstance(chunk.content, str) else "".join(
        b.get("text", "") if isinstance(b, dict) else str(b) for b in chunk.content or [])
    reasoning = (chunk.additional_kwargs or {}).get("reasoning_content")
    reasoning = reasoning if isinstance(reasoning, str) else ""
    if getattr(chunk, "usage_metadata", None):
        out.usage = dict(chunk.usage_metadata)
    finish = (chunk.response_metadata or {}).get("finish_reason")
    if finish:
        out.finish_reason = finish
    if content:
        out.content.append(content)
    if reasoning:
        out.reasoning.append(reasoning)
    if content or reasoning:
        out.tokens += 1
        return True
    return False
