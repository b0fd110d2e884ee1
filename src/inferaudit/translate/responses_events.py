"""A Chat Completions stream rewritten, chunk by chunk, as a Responses stream.

What the client sees, in the Responses API's order: ``response.created``
and ``response.in_progress`` (at the first chunk); for text, a ``message``
item (``response.output_item.added``, ``response.content_part.added``, then
``response.output_text.delta`` per piece); for each tool call (by its chat
``index``) a ``function_call`` item (``output_item.added``, then
``response.function_call_arguments.delta`` per piece); reasoning text
(vLLM's ``reasoning_content``) as a ``reasoning`` item given whole when the
answer moves on. At ``[DONE]`` every open item is closed (``*.done``
events carrying the full text or arguments) and ``response.completed``
(``response.incomplete`` after ``finish_reason: length``) carries the whole
response with its usage (from the ``include_usage`` chunk the gateway asks
the upstream for). Every event has a ``sequence_number``.

A stream that ends before any ``finish_reason`` was cut: the client gets
the Responses ``error`` event instead of a completion it would trust.
"""

from __future__ import annotations

import time
from typing import Any

from ..providers.base import SSEEvent
from ..providers.sse import DONE, encode_event
from .common import StreamEnding, dumps, error_message, event_json, listed, mapping, text
from .responses_api import call_item, message_item, reasoning_item, response_id, response_object, responses_usage

READS: dict[str, tuple[str, ...]] = {
    "chat.chunk": (
        "id", "model", "usage", "error", "error.message", "choices[].delta.content", "choices[].delta.reasoning_content",
        "choices[].delta.reasoning", "choices[].delta.tool_calls[].index", "choices[].delta.tool_calls[].id",
        "choices[].delta.tool_calls[].function.name", "choices[].delta.tool_calls[].function.arguments",
        "choices[].finish_reason",
    ),
}
_EVENT_FIELDS = {
    **{kind: ("response",) for kind in ("response.created", "response.in_progress", "response.completed",
                                          "response.incomplete")},
    "response.output_item.added": ("output_index", "item"), "response.output_item.done": ("output_index", "item"),
    "response.content_part.added": ("item_id", "output_index", "content_index", "part"),
    "response.content_part.done": ("item_id", "output_index", "content_index", "part"),
    "response.output_text.delta": ("item_id", "output_index", "content_index", "delta", "logprobs"),
    "response.output_text.done": ("item_id", "output_index", "content_index", "text", "logprobs"),
    "response.function_call_arguments.delta": ("item_id", "output_index", "delta"),
    "response.function_call_arguments.done": ("item_id", "output_index", "arguments"),
}
WRITES: dict[str, tuple[str, ...]] = {
    "responses.event": tuple(f"{kind}:{path}" for kind, fields in _EVENT_FIELDS.items()
                             for path in ("type", "sequence_number", *fields)),
}


class ResponsesEvents(StreamEnding):
    """One Chat Completions stream -> Responses events (a :class:`~.base.StreamTranslator`)."""

    client_protocol = "openai-responses"

    def __init__(self, request: dict[str, Any] | None = None) -> None:
        self._request = mapping(request)
        self._model = text(self._request.get("model")) or ""
        self._id = response_id(None)
        self._created = int(time.time())
        self._seq = 0
        self._started = False
        self._output: list[dict[str, Any] | None] = []  # finished items, by output index (None: still open)
        self._text: dict[str, Any] | None = None  # the open message item: id, index, text
        self._thought: list[str] = []
        self._calls: dict[Any, dict[str, Any]] = {}  # chat tool-call index -> id, index, call_id, name, arguments
        self._finish: str | None = None
        self._usage: dict[str, Any] | None = None
        self._done = False

    # -- StreamTranslator ------------------------------------------------------

    def feed(self, event: SSEEvent) -> bytes:
        if self._done:
            return b""
        if event.data == DONE:
            return self._end() if self._started else self.error("upstream stream ended before any answer")
        chunk = event_json(event)
        if not isinstance(chunk, dict):
            return b""
        if chunk.get("error"):
            return self.error(error_message(chunk))
        out = [] if self._started else self._start(chunk)
        if chunk.get("usage"):
            self._usage = responses_usage(chunk["usage"])
        for choice in map(mapping, listed(chunk.get("choices"))):
            delta = mapping(choice.get("delta"))
            thought = text(delta.get("reasoning_content")) or text(delta.get("reasoning"))
            if thought:
                self._thought.append(thought)
            if text(delta.get("content")):
                out.append(self._text_delta(delta["content"]))
            for call in map(mapping, listed(delta.get("tool_calls"))):
                out.append(self._call_delta(call))
            self._finish = text(choice.get("finish_reason")) or self._finish
        return b"".join(out)

    def _finished(self) -> bool:
        return self._started and self._finish is not None

    # -- items -----------------------------------------------------------------

    def _start(self, chunk: dict[str, Any]) -> list[bytes]:
        self._started = True
        if text(chunk.get("id")):
            self._id = response_id(chunk["id"])
        self._model = text(chunk.get("model")) or self._model
        snapshot = {**self._response(), "status": "in_progress", "usage": None}
        return [self._event("response.created", response=snapshot), self._event("response.in_progress", response=snapshot)]

    def _open(self) -> tuple[int, bytes]:
        """A new output index for an item being streamed, after any reasoning given so far."""
        prefix = self._flush_thought()
        self._output.append(None)
        return len(self._output) - 1, prefix

    def _text_delta(self, piece: str) -> bytes:
        out = []
        if self._text is None:
            index, prefix = self._open()
            out.append(prefix)
            self._text = {"id": f"msg_{self._id[5:]}_{index}", "index": index, "text": []}
            out.append(self._event("response.output_item.added", output_index=index,
                                   item={**message_item(self._text["id"], "", "in_progress"), "content": []}))
            out.append(self._event("response.content_part.added", item_id=self._text["id"], output_index=index,
                                   content_index=0, part={"type": "output_text", "text": "", "annotations": []}))
        self._text["text"].append(piece)
        out.append(self._event("response.output_text.delta", item_id=self._text["id"], output_index=self._text["index"],
                               content_index=0, delta=piece, logprobs=[]))
        return b"".join(out)

    def _call_delta(self, call: dict[str, Any]) -> bytes:
        key = call.get("index", call.get("id"))
        function = mapping(call.get("function"))
        out = []
        state = self._calls.get(key)
        if state is None:
            out.append(self._close_text())
            index, prefix = self._open()
            out.append(prefix)
            state = {"id": f"fc_{self._id[5:]}_{index}", "index": index,
                     "call_id": text(call.get("id")) or f"call_{self._id[5:]}_{index}",
                     "name": text(function.get("name")) or "", "arguments": []}
            self._calls[key] = state
            out.append(self._event("response.output_item.added", output_index=index,
                                   item=call_item(state["id"], state["call_id"], state["name"], "", "in_progress")))
        elif text(function.get("name")) and not state["name"]:
            state["name"] = function["name"]
        piece = function.get("arguments")
        if isinstance(piece, str) and piece:
            state["arguments"].append(piece)
            out.append(self._event("response.function_call_arguments.delta", item_id=state["id"],
                                   output_index=state["index"], delta=piece))
        return b"".join(out)

    def _flush_thought(self) -> bytes:
        if not self._thought:
            return b""
        item = reasoning_item(f"rs_{self._id[5:]}_{len(self._output)}", "".join(self._thought))
        self._thought = []
        self._output.append(item)
        index = len(self._output) - 1
        return self._event("response.output_item.added", output_index=index, item={**item, "summary": []}) + \
            self._event("response.output_item.done", output_index=index, item=item)

    def _close_text(self) -> bytes:
        if self._text is None:
            return b""
        state, self._text = self._text, None
        said = "".join(state["text"])
        item = message_item(state["id"], said)
        self._output[state["index"]] = item
        return b"".join((
            self._event("response.output_text.done", item_id=state["id"], output_index=state["index"], content_index=0,
                        text=said, logprobs=[]),
            self._event("response.content_part.done", item_id=state["id"], output_index=state["index"], content_index=0,
                        part=item["content"][0]),
            self._event("response.output_item.done", output_index=state["index"], item=item),
        ))

    def _close_calls(self) -> bytes:
        out = []
        for state in self._calls.values():
            arguments = "".join(state["arguments"])
            item = call_item(state["id"], state["call_id"], state["name"], arguments)
            self._output[state["index"]] = item
            out.append(self._event("response.function_call_arguments.done", item_id=state["id"],
                                   output_index=state["index"], arguments=arguments))
            out.append(self._event("response.output_item.done", output_index=state["index"], item=item))
        self._calls = {}
        return b"".join(out)

    # -- output ----------------------------------------------------------------

    def _end(self) -> bytes:
        out = [self._flush_thought(), self._close_text(), self._close_calls()]
        final = self._response()
        out.append(self._event("response.incomplete" if final["status"] == "incomplete" else "response.completed",
                               response=final))
        self._done = True
        return b"".join(out)

    def _response(self) -> dict[str, Any]:
        output = [item for item in self._output if item is not None]
        return response_object(self._id, self._model, output, self._usage, self._finish, self._request, self._created)

    def _event(self, kind: str, **fields: Any) -> bytes:
        data = {"type": kind, "sequence_number": self._seq, **fields}
        self._seq += 1
        return encode_event(dumps(data), kind)
