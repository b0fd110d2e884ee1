"""A Gemini ``streamGenerateContent?alt=sse`` stream rewritten, chunk by chunk, as a Chat Completions stream.

What the client sees, in OpenAI's order: per choice (one per Gemini candidate), a role chunk
when the candidate first appears; ``content`` deltas for its text parts, ``reasoning_content``
deltas for thought parts; for each ``functionCall`` part naming a function a ``tool_calls``
delta with its own ``index``, a minted ``id`` (carrying the call's ``thoughtSignature``, see
:mod:`.gemini_answer`), ``type``, ``name`` and the whole ``args`` as ``arguments`` (Gemini sends
a call whole); a chunk with ``finish_reason`` when the candidate says ``finishReason``. At the
end of the upstream stream, when the client asked for ``stream_options.include_usage``, the
usage chunk (empty ``choices``), then ``data: [DONE]``; every chunk carries ``"usage": null``
before it, as OpenAI's do.

Usage: every Gemini chunk repeats the *cumulative* ``usageMetadata``; the last one with counts
is the call's usage (never a sum), converted by :func:`~.gemini_answer.chat_usage`. Gemini has
no end sentinel and may send usage after the ``finishReason`` chunk, so usage and ``[DONE]``
wait for the end of the stream.

Errors: a Gemini ``{"error": ...}`` object mid-stream becomes OpenAI's mid-stream error
(``data: {"error": ...}``); a stream that ends before every candidate said ``finishReason`` was
cut, and gets that error too, never a ``finish_reason`` the client would trust. Streamed
function-call arguments (Vertex ``partialArgs``, only sent when a request asks for them, which
this gateway's requests never do) end the stream with the error rather than a call with
arguments missing.
"""

from __future__ import annotations

from typing import Any

from ..providers.base import SSEEvent
from ..providers.gemini import has_counts
from .chat_chunks import CHUNK_READS, CHUNK_WRITES, ChatChunkWriter
from .common import completion_id, error_message, event_json, listed, mapping, text
from .gemini_answer import (
    blocked,
    candidate_index,
    chat_usage,
    finish_reason,
    parts_of,
    tool_call,
)

READS: dict[str, tuple[str, ...]] = {"chat.request": CHUNK_READS}
WRITES: dict[str, tuple[str, ...]] = {"chat.chunk": CHUNK_WRITES}


class GeminiChunks(ChatChunkWriter):
    """One Gemini stream -> OpenAI chat chunks (a :class:`~.base.StreamTranslator`)."""

    def __init__(self, request: dict[str, Any] | None = None) -> None:
        super().__init__(request)
        self._tools: dict[int, int] = {}  # choice index -> tool calls so far
        self._finished_choices: set[int] = set()
        self._usage: dict[str, Any] | None = None

    # -- StreamTranslator ------------------------------------------------------

    def feed(self, event: SSEEvent) -> bytes:
        if self._done:
            return b""
        chunk = event_json(event)
        if not isinstance(chunk, dict):
            return b""
        if chunk.get("error") is not None:
            return self.error(error_message(chunk))
        self._id = self._id or completion_id(chunk.get("responseId"))
        self._model = text(chunk.get("modelVersion")) or self._model
        if has_counts(chunk.get("usageMetadata")):
            self._usage = chunk["usageMetadata"]  # cumulative: the last one wins
        if blocked(chunk):
            return self._open(0) + self._chunk(0, {}, "content_filter", finished=True)
        out: list[bytes] = []
        for position, candidate in enumerate(map(mapping, listed(chunk.get("candidates")))):
            index = candidate_index(candidate, position)
            if index in self._finished_choices:
                continue
            out.append(self._open(index))
            for part in parts_of(candidate):
                piece = self._part(index, part)
                if piece is None:
                    return b"".join(out) + self.error(
                        "upstream streamed function-call arguments in pieces, which this gateway does not translate")
                out.append(piece)
            if text(candidate.get("finishReason")):
                out.append(self._chunk(index, {}, finish_reason(candidate["finishReason"], bool(self._tools[index])),
                                       finished=True))
        return b"".join(out)

    def _finished(self) -> bool:
        return bool(self._tools) and set(self._tools) <= self._finished_choices

    # -- content ---------------------------------------------------------------

    def _open(self, index: int) -> bytes:
        """The role chunk, the first time a choice appears."""
        if index in self._tools:
            return b""
        self._tools[index] = 0
        return self._chunk(index, {"role": "assistant", "content": ""})

    def _part(self, index: int, part: dict[str, Any]) -> bytes | None:
        if isinstance(part.get("text"), str) and part["text"]:
            field = "reasoning_content" if part.get("thought") is True else "content"
            return self._chunk(index, {field: part["text"]})
        call = tool_call(part)
        if call is not None:
            position, self._tools[index] = self._tools[index], self._tools[index] + 1
            return self._chunk(index, {"tool_calls": [{"index": position, **call}]})
        if mapping(part.get("functionCall")).get("partialArgs") is not None:
            return None
        return b""  # empty text, a bare signature, an empty functionCall piece

    # -- output ----------------------------------------------------------------

    def _end(self) -> bytes:
        return self._close(chat_usage(self._usage))

    def _chunk(self, index: int, delta: dict[str, Any], finish: str | None = None, finished: bool = False) -> bytes:
        if finished:
            self._finished_choices.add(index)
        return self._choice({"index": index, "delta": delta, "logprobs": None, "finish_reason": finish})
