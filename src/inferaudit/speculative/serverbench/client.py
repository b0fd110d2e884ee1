"""One streamed chat completion against an OpenAI-compatible server, timed on the client.

Times are taken when bytes arrive (``time.perf_counter``): the request start, the first
chunk that carries text (time to first token), the last one, and the end of the stream.
Usage and speculative counters come from the stream's final usage chunk (the request asks
for ``stream_options.include_usage``), read by :mod:`inferaudit.providers.spec_counters`.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import aiohttp
import orjson

from ...providers.spec_counters import SpecCounters, read_spec
from ...providers.sse import DONE, SSEParser


@dataclass
class RequestResult:
    """What one benchmark request measured. Times are seconds on the ``perf_counter`` clock."""

    prompt_id: str
    cls: str
    endpoint: str
    concurrency: int
    started_at: datetime
    start: float
    end: float = 0.0
    first_token: float | None = None
    last_token: float | None = None
    text: str = ""
    content_chunks: int = 0
    prompt_tokens: int | None = None
    output_tokens: int | None = None  # the server's ``usage.completion_tokens``
    finish_reason: str | None = None
    spec: SpecCounters | None = None
    error: str | None = None
    usage: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def latency(self) -> float:
        return self.end - self.start

    @property
    def ttft(self) -> float | None:
        return None if self.first_token is None else self.first_token - self.start

    @property
    def itl(self) -> float | None:
        """Mean time per output token after the first (vLLM's TPOT); None below two tokens."""
        if self.first_token is None or self.last_token is None or not self.output_tokens or self.output_tokens < 2:
            return None
        return (self.last_token - self.first_token) / (self.output_tokens - 1)

    @property
    def tokens_per_s(self) -> float | None:
        if not self.output_tokens or self.latency <= 0:
            return None
        return self.output_tokens / self.latency


def request_body(model: str, messages: list[dict], max_tokens: int, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Greedy, streamed, with usage in the last chunk: the same request for every endpoint."""
    body = {"model": model, "messages": messages, "max_tokens": max_tokens, "temperature": 0.0, "seed": 0,
            "stream": True, "stream_options": {"include_usage": True}}
    body.update(extra or {})
    return body


async def stream_chat(session: aiohttp.ClientSession, url: str, body: dict[str, Any], result: RequestResult) -> RequestResult:
    """Send ``body`` to ``url`` (a chat-completions URL) and fill ``result`` as the stream arrives."""
    parser = SSEParser()
    pieces: list[str] = []
    try:
        async with session.post(url, data=orjson.dumps(body), headers={"content-type": "application/json"}) as response:
            if response.status != 200:
                result.error = f"HTTP {response.status}: {(await response.text())[:300]}"
                return result
            async for chunk in response.content.iter_any():
                now = time.perf_counter()
                for event in parser.feed(chunk):
                    _take(event.data, now, result, pieces)
            for event in parser.flush():
                _take(event.data, time.perf_counter(), result, pieces)
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
        result.error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    finally:
        result.end = time.perf_counter()
        result.text = "".join(pieces)
    if result.ok and result.output_tokens is None:
        result.error = "no usage in the stream: the server ignored stream_options.include_usage"
    return result


def _take(data: str, now: float, result: RequestResult, pieces: list[str]) -> None:
    if data == DONE:
        return
    try:
        chunk = orjson.loads(data)
    except orjson.JSONDecodeError:
        return
    if not isinstance(chunk, dict):
        return
    if chunk.get("error"):
        error = chunk["error"]
        result.error = str(error.get("message") if isinstance(error, dict) else error)
        return
    for choice in chunk.get("choices") or []:
        if not isinstance(choice, dict):
            continue
        delta = choice.get("delta") or {}
        content = delta.get("content") if isinstance(delta, dict) else None
        if isinstance(content, str) and content:
            pieces.append(content)
            result.content_chunks += 1
            result.first_token = result.first_token or now
            result.last_token = now
        result.finish_reason = choice.get("finish_reason") or result.finish_reason
    usage = chunk.get("usage")
    if isinstance(usage, dict):
        result.usage = usage
        result.prompt_tokens = usage.get("prompt_tokens")
        result.output_tokens = usage.get("completion_tokens")
    spec = read_spec(chunk)
    if spec is not None:
        result.spec = spec
