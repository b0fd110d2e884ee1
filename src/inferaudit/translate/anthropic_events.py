"""An OpenAI Chat Completions stream rewritten, chunk by chunk, as an Anthropic Messages stream.

What the client sees, in Anthropic's order: ``message_start``; for each
piece of content a block (``content_block_start``, its deltas,
``content_block_stop``): text as ``text_delta``, each tool call (one block
per OpenAI ``tool_calls[].index``) as ``input_json_delta`` pieces, reasoning
as ``thinking_delta`` when the client asked for thinking; then
``message_delta`` with the stop reason and usage, and ``message_stop``.

Usage: an OpenAI stream says its usage only at the end (the
``include_usage`` chunk, *after* the ``finish_reason`` chunk), so the
message is finished at ``data: [DONE]`` (or at the end of the stream), not
at ``finish_reason``. ``message_start`` carries zeros (or the counts of a
server that repeats usage on every chunk, as vLLM can), and the final
``message_delta`` restates input and cache counts beside the cumulative
output, which Anthropic's SDKs take as replacements, never additions. A
stream that ends without usage reports zeros there: the upstream never said.

A stream that ends with neither a ``finish_reason`` nor ``[DONE]`` was cut:
the client gets Anthropic's ``error`` event, not a message that looks whole.
"""

from __future__ import annotations

from typing import Any

from ..providers.base import SSEEvent
from ..providers.sse import DONE, encode_event
from .common import (
    ERROR_READS,
    StreamEnding,
    anthropic_stop,
    anthropic_usage,
    dumps,
    error_message,
    listed,
    event_json,
    mapping,
    message_id,
    text,
    wants_thinking,
)

# JSON paths this module reads / writes, per OpenAI object (``[]``: each item; ``*``: the whole
# subtree). ``inferaudit drift check`` compares them with OpenAI's spec; tests/drift/test_fields.py
# fails when the code touches a path not listed.
READS: dict[str, tuple[str, ...]] = {
    "chat.chunk": (
        "id", "model", "usage", *ERROR_READS, "choices[].index", "choices[].delta.reasoning_content",
        "choices[].delta.reasoning", "choices[].delta.content", "choices[].delta.tool_calls[].index",
        "choices[].delta.tool_calls[].id", "choices[].delta.tool_calls[].function.name",
        "choices[].delta.tool_calls[].function.arguments", "choices[].finish_reason", "choices[].stop_reason",
    ),
}

ZERO_USAGE = {"input_tokens": 0, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, "output_tokens": 0}


def _event(payload: dict[str, Any]) -> bytes:
    return encode_event(dumps(payload), payload["type"])


class AnthropicEvents(StreamEnding):
    """One OpenAI chat stream -> Anthropic Messages events (a :class:`~.base.StreamTranslator`)."""

    client_protocol = "anthropic-messages"

    def __init__(self, request: dict[str, Any] | None = None) -> None:
        self._request = mapping(request)
        self._thinking = wants_thinking(request)
        self._upstream_id: str | None = None
        self._model: str | None = None
        self._started = False
        self._done = False
        self._open: tuple[str, Any, int] | None = None  # (kind, key, index) of the block being written
        self._blocks = 0
        self._tools: dict[Any, int] = {}  # OpenAI tool-call key -> Anthropic block index
        self._last_tool: Any = None
        self._finish: str | None = None
        self._matched: Any = None  # vLLM's choice.stop_reason: the stop string that ended the answer
        self._usage: dict[str, Any] | None = None

    # -- StreamTranslator ------------------------------------------------------

    def feed(self, event: SSEEvent) -> bytes:
        if self._done:
            return b""
        if event.data.strip() == DONE:
            return self._end()
        chunk = event_json(event)
        if not isinstance(chunk, dict):
            return b""
        if chunk.get("error"):
            return self.error(error_message(chunk))
        self._upstream_id = self._upstream_id or text(chunk.get("id"))
        self._model = self._model or text(chunk.get("model"))
        if isinstance(chunk.get("usage"), dict):
            self._usage = chunk["usage"]  # cumulative wherever it comes: the last one wins
        out: list[bytes] = []
        for choice in map(mapping, listed(chunk.get("choices"))):
            if choice.get("index", 0) not in (0, None):
                continue  # only one answer goes to an Anthropic client
            out.extend(self._delta(mapping(choice.get("delta"))))
            if text(choice.get("finish_reason")):
                self._finish, self._matched = choice["finish_reason"], choice.get("stop_reason")
        return b"".join(out)

    def _finished(self) -> bool:
        return self._finish is not None

    # -- content ---------------------------------------------------------------

    def _delta(self, delta: dict[str, Any]) -> list[bytes]:
        out: list[bytes] = []
        reasoning = text(delta.get("reasoning_content")) or text(delta.get("reasoning"))
        if reasoning and self._thinking:
            out += self._write("thinking", {"type": "thinking", "thinking": "", "signature": ""},
                               {"type": "thinking_delta", "thinking": reasoning})
        content = text(delta.get("content"))
        if content:
            out += self._write("text", {"type": "text", "text": ""}, {"type": "text_delta", "text": content})
        for call in map(mapping, listed(delta.get("tool_calls"))):
            out += self._tool(call)
        return out

    def _write(self, kind: str, block: dict[str, Any], delta: dict[str, Any]) -> list[bytes]:
        """A text or thinking delta, in the open block of its kind or a new one."""
        out = [] if self._open and self._open[0] == kind else self._start_block(kind, None, block)
        out.append(_event({"type": "content_block_delta", "index": self._open[2], "delta": delta}))
        return out

    def _tool(self, call: dict[str, Any]) -> list[bytes]:
        key = call.get("index")
        if not isinstance(key, int):  # a server that leaves the index out: an id names the call, else the last one
            key = text(call.get("id")) or self._last_tool
        function = mapping(call.get("function"))
        out: list[bytes] = []
        if key not in self._tools:
            call_id = text(call.get("id")) or f"toolu_{len(self._tools)}_{message_id(self._upstream_id)[4:]}"
            block = {"type": "tool_use", "id": call_id, "name": text(function.get("name")) or "", "input": {}}
            out += self._start_block("tool_use", key, block)
            self._tools[key] = self._open[2]
        self._last_tool = key
        arguments = function.get("arguments")
        if isinstance(arguments, dict):  # Ollama has sent whole objects
            arguments = dumps(arguments)
        if isinstance(arguments, str) and arguments:
            # a late piece of an earlier call keeps that call's block index, where the SDKs put it
            delta = {"type": "input_json_delta", "partial_json": arguments}
            out.append(_event({"type": "content_block_delta", "index": self._tools[key], "delta": delta}))
        return out

    def _start_block(self, kind: str, key: Any, block: dict[str, Any]) -> list[bytes]:
        out = self._message_start() + self._stop_block()
        self._open = (kind, key, self._blocks)
        self._blocks += 1
        out.append(_event({"type": "content_block_start", "index": self._open[2], "content_block": block}))
        return out

    def _stop_block(self) -> list[bytes]:
        if self._open is None:
            return []
        index, self._open = self._open[2], None
        return [_event({"type": "content_block_stop", "index": index})]

    # -- the message around the blocks -------------------------------------------

    def _message_start(self) -> list[bytes]:
        """``message_start``, once, just before the first block (an Azure stream opens with a chunk without id)."""
        if self._started:
            return []
        self._started = True
        message = {
            "id": message_id(self._upstream_id),
            "type": "message",
            "role": "assistant",
            "model": self._model or text(self._request.get("model")) or "",
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": anthropic_usage(self._usage) if self._usage else dict(ZERO_USAGE),
        }
        return [_event({"type": "message_start", "message": message})]

    def _end(self) -> bytes:
        out = self._message_start() + self._stop_block()
        stop_reason, stop_sequence = anthropic_stop(self._finish, bool(self._tools), self._matched, self._request)
        usage = anthropic_usage(self._usage) if self._usage else {"output_tokens": 0}
        delta = {"stop_reason": stop_reason, "stop_sequence": stop_sequence}
        out.append(_event({"type": "message_delta", "delta": delta, "usage": usage}))
        out.append(_event({"type": "message_stop"}))
        self._done = True
        return b"".join(out)
