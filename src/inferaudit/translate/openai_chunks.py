"""An Anthropic Messages stream rewritten, event by event, as an OpenAI Chat Completions stream.

What the client sees, in OpenAI's order: a role chunk (at
``message_start``); content chunks for ``text_delta``; for each
``tool_use`` block a ``tool_calls`` delta with its own ``index`` (counted
over tool calls only), ``id``, ``type`` and ``name`` and empty arguments,
then its ``input_json_delta`` pieces as argument text; ``thinking_delta``
as ``reasoning_content`` (the field vLLM and DeepSeek clients read); at
``message_stop`` a chunk with ``finish_reason``, then, when the client
asked for ``stream_options.include_usage``, the usage chunk with empty
``choices``, and ``data: [DONE]``. As OpenAI does, every chunk carries
``"usage": null`` when the client asked for usage.

Usage follows Anthropic's stream: ``message_start`` gives input and cache
counts, each ``message_delta`` *replaces* them field by field (output is
cumulative), and the OpenAI usage chunk puts the cached parts back *into*
``prompt_tokens``. Server-tool blocks ran at Anthropic: left out.

A stream that ends before ``message_delta`` said why it stopped was cut:
the client gets OpenAI's mid-stream error (``data: {"error": ...}``), not
a ``finish_reason`` it would trust.
"""

from __future__ import annotations

from typing import Any

from ..providers.base import SSEEvent
from .chat_chunks import CHUNK_READS, CHUNK_WRITES, ChatChunkWriter
from .common import (
    completion_id,
    dumps,
    error_message,
    finish_reason,
    event_json,
    mapping,
    openai_usage,
    text,
)

# JSON paths this module reads / writes, per OpenAI object (``[]``: each item; ``*``: the whole
# subtree). ``inferaudit drift check`` compares them with OpenAI's spec; tests/drift/test_fields.py
# fails when the code touches a path not listed.
READS: dict[str, tuple[str, ...]] = {"chat.request": CHUNK_READS}
WRITES: dict[str, tuple[str, ...]] = {"chat.chunk": CHUNK_WRITES}


class OpenAIChunks(ChatChunkWriter):
    """One Anthropic Messages stream -> OpenAI chat chunks (a :class:`~.base.StreamTranslator`)."""

    def __init__(self, request: dict[str, Any] | None = None) -> None:
        super().__init__(request)
        self._usage: dict[str, Any] = {}
        self._blocks: dict[Any, tuple[str, int | None]] = {}  # Anthropic block index -> (kind, tool-call index)
        self._tools = 0
        self._stop: str | None = None

    # -- StreamTranslator ------------------------------------------------------

    def feed(self, event: SSEEvent) -> bytes:
        if self._done:
            return b""
        data = event_json(event)
        if not isinstance(data, dict):
            return b""
        handler = _HANDLERS.get(text(data.get("type")) or event.event or "")
        return handler(self, data) if handler else b""

    def _finished(self) -> bool:
        return self._stop is not None

    # -- events ----------------------------------------------------------------

    def _message_start(self, data: dict[str, Any]) -> bytes:
        message = mapping(data.get("message"))
        if text(message.get("id")):
            self._id = completion_id(message["id"])
        self._model = text(message.get("model")) or self._model
        self._usage = dict(mapping(message.get("usage")))
        return self._chunk({"role": "assistant", "content": ""})

    def _block_start(self, data: dict[str, Any]) -> bytes:
        block = mapping(data.get("content_block"))
        kind = block.get("type")
        if kind == "tool_use":
            index, self._tools = self._tools, self._tools + 1
            self._blocks[data.get("index")] = ("tool_use", index)
            start = block.get("input")
            arguments = dumps(start) if isinstance(start, dict) and start else ""
            call = {"index": index, "id": block.get("id"), "type": "function",
                    "function": {"name": block.get("name") or "", "arguments": arguments}}
            return self._chunk({"tool_calls": [call]})
        if kind in ("text", "thinking"):
            self._blocks[data.get("index")] = (kind, None)
            opening = text(block.get(kind))
            return self._chunk({"content" if kind == "text" else "reasoning_content": opening}) if opening else b""
        return b""  # server tools and their results ran at Anthropic

    def _block_delta(self, data: dict[str, Any]) -> bytes:
        kind, tool = self._blocks.get(data.get("index"), ("", None))
        delta = mapping(data.get("delta"))
        if kind == "text" and text(delta.get("text")):
            return self._chunk({"content": delta["text"]})
        if kind == "thinking" and text(delta.get("thinking")):
            return self._chunk({"reasoning_content": delta["thinking"]})
        if kind == "tool_use" and text(delta.get("partial_json")):
            return self._chunk({"tool_calls": [{"index": tool, "function": {"arguments": delta["partial_json"]}}]})
        return b""  # signatures, citations, empty pieces

    def _message_delta(self, data: dict[str, Any]) -> bytes:
        self._stop = text(mapping(data.get("delta")).get("stop_reason")) or self._stop
        for key, value in mapping(data.get("usage")).items():
            if value is not None:  # cumulative: replace, never add
                self._usage[key] = value
        return b""

    def _message_stop(self, data: dict[str, Any]) -> bytes:
        return self._end()

    def _error(self, data: dict[str, Any]) -> bytes:
        return self.error(error_message(data))

    # -- output ----------------------------------------------------------------

    def _end(self) -> bytes:
        finish = "tool_calls" if self._stop is None and self._tools else finish_reason(self._stop)
        return self._chunk({}, finish) + self._close(openai_usage(self._usage))

    def _chunk(self, delta: dict[str, Any], finish: str | None = None) -> bytes:
        return self._choice({"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish})


_HANDLERS = {
    "message_start": OpenAIChunks._message_start,
    "content_block_start": OpenAIChunks._block_start,
    "content_block_delta": OpenAIChunks._block_delta,
    "message_delta": OpenAIChunks._message_delta,
    "message_stop": OpenAIChunks._message_stop,
    "error": OpenAIChunks._error,
}
