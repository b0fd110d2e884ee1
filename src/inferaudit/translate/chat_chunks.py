"""Writing an OpenAI Chat Completions stream: what every translator to ``openai-chat`` streams the same way.

A chunk is ``{"id", "object": "chat.completion.chunk", "created", "model",
"choices": [...]}``, plus ``"usage": null`` on every chunk when the client
asked for ``stream_options.include_usage`` (as OpenAI does), and then one
last chunk with empty ``choices`` and the usage, before ``data: [DONE]``.
The stream translators (from Anthropic, Gemini and Responses upstreams)
inherit this and write only their own deltas.
"""

from __future__ import annotations

import time
from typing import Any

from ..providers.sse import DONE, encode_event
from .common import StreamEnding, completion_id, dumps, mapping, text

# The chunk paths every writer here produces (its module's WRITES table adds what it writes besides).
CHUNK_WRITES: tuple[str, ...] = (
    "id", "object", "created", "model", "choices[].index", "choices[].delta.role", "choices[].delta.content",
    "choices[].delta.reasoning_content", "choices[].delta.tool_calls[].index", "choices[].delta.tool_calls[].id",
    "choices[].delta.tool_calls[].type", "choices[].delta.tool_calls[].function.name",
    "choices[].delta.tool_calls[].function.arguments", "choices[].logprobs", "choices[].finish_reason", "usage",
)
CHUNK_READS: tuple[str, ...] = ("model", "stream_options.include_usage")


class ChatChunkWriter(StreamEnding):
    """Chunk framing, ids and the usage chunk; subclasses feed upstream events and call :meth:`_choice`."""

    client_protocol = "openai-chat"

    def __init__(self, request: dict[str, Any] | None = None) -> None:
        request = mapping(request)
        self._include_usage = mapping(request.get("stream_options")).get("include_usage") is True
        self._model = text(request.get("model")) or ""
        self._id: str | None = None
        self._created = int(time.time())
        self._done = False

    def _choice(self, choice: dict[str, Any]) -> bytes:
        """One chunk carrying one choice (its ``index``, ``delta``, ``logprobs``, ``finish_reason``)."""
        return encode_event(dumps(self._head([choice], None)))

    def _close(self, usage: dict[str, Any]) -> bytes:
        """The usage chunk (when asked for) and ``[DONE]``; nothing is written after it."""
        out = [encode_event(dumps(self._head([], usage)))] if self._include_usage else []
        out.append(encode_event(DONE))
        self._done = True
        return b"".join(out)

    def _head(self, choices: list[dict[str, Any]], usage: dict[str, Any] | None) -> dict[str, Any]:
        self._id = self._id or completion_id(None)
        chunk: dict[str, Any] = {"id": self._id, "object": "chat.completion.chunk", "created": self._created,
                                 "model": self._model, "choices": choices}
        if self._include_usage:
            chunk["usage"] = usage
        return chunk
