"""A Responses stream rewritten, event by event, as a Chat Completions stream.

What the client sees, in OpenAI's order: the role chunk (at ``response.created``); ``content``
deltas for ``response.output_text.delta`` (with ``logprobs`` when the client asked for them),
``refusal`` deltas for ``response.refusal.delta``, ``reasoning_content`` deltas for reasoning
summary (or raw reasoning) text, a blank line between summary parts; for each ``function_call``
item (``response.output_item.added``) a ``tool_calls`` delta with its own ``index`` (counted over
calls only), ``id`` (the item's ``call_id``), ``type`` and ``name``, then its
``response.function_call_arguments.delta`` pieces as argument text. ``response.completed`` or
``response.incomplete`` gives the chunk with ``finish_reason`` (as :mod:`.chat_to_responses_answer`
decides it), then, when the client asked for ``stream_options.include_usage``, the usage chunk
(empty ``choices``; usage converted exactly, from the terminal event's response), then
``data: [DONE]``. Every chunk carries ``"usage": null`` before it when usage was asked for, as
OpenAI's do.

An upstream that skips the deltas and gives an item whole (``response.output_item.done``, or only
the terminal response's ``output``) still reaches the client: whatever the deltas did not carry is
sent before the finish chunk.

Errors: an ``error`` event or ``response.failed`` is OpenAI's mid-stream error
(``data: {"error": ...}``, which the openai SDK raises), never a finish the client would trust; so
is a stream that ends before ``response.completed`` or ``response.incomplete``.
"""

from __future__ import annotations

from typing import Any

from ..providers.base import SSEEvent
from .chat_chunks import ChatChunkWriter
from .chat_to_responses_answer import (
    REASONING_JOIN,
    chat_usage,
    completion_id,
    created,
    finish_reason,
    token_logprob,
    tool_call,
    wants_logprobs,
)
from .common import error_message, event_json, listed, mapping, text

_ITEM_EVENTS = ("response.output_item.added", "response.output_item.done")
READS: dict[str, tuple[str, ...]] = {
    "chat.request": ("model", "logprobs", "stream_options.include_usage"),
    "responses.response": (  # in the created and terminal events
        "id", "model", "created_at", "status", "incomplete_details.reason", "error.message", "usage", "output[].type",
        "output[].id", "output[].call_id", "output[].name", "output[].arguments", "output[].content[].type",
        "output[].content[].text",
    ),
    "responses.event": (
        "*:type", "*:response", "error:error", "error:error.message", "error:message", "error:detail",
        *(f"{event}:{path}" for event in _ITEM_EVENTS
          for path in ("item.type", "item.id", "item.call_id", "item.name", "item.arguments", "item.content[].type",
                       "item.content[].text")),
        "response.output_text.delta:item_id", "response.output_text.delta:delta",
        "response.output_text.delta:logprobs[].token", "response.output_text.delta:logprobs[].logprob",
        "response.output_text.delta:logprobs[].top_logprobs[].token",
        "response.output_text.delta:logprobs[].top_logprobs[].logprob",
        "response.refusal.delta:delta",
        "response.reasoning_summary_text.delta:item_id", "response.reasoning_summary_text.delta:summary_index",
        "response.reasoning_summary_text.delta:delta",
        "response.reasoning_text.delta:item_id", "response.reasoning_text.delta:content_index",
        "response.reasoning_text.delta:delta",
        "response.function_call_arguments.delta:item_id", "response.function_call_arguments.delta:delta",
        "response.function_call_arguments.done:item_id", "response.function_call_arguments.done:arguments",
    ),
}
WRITES: dict[str, tuple[str, ...]] = {
    "chat.chunk": (
        "id", "object", "created", "model", "choices[].index", "choices[].delta.role", "choices[].delta.content",
        "choices[].delta.refusal", "choices[].delta.reasoning_content", "choices[].delta.tool_calls[].index",
        "choices[].delta.tool_calls[].id", "choices[].delta.tool_calls[].type",
        "choices[].delta.tool_calls[].function.name", "choices[].delta.tool_calls[].function.arguments",
        "choices[].logprobs", "choices[].logprobs.content[].token", "choices[].logprobs.content[].logprob",
        "choices[].logprobs.content[].bytes", "choices[].logprobs.content[].top_logprobs[].token",
        "choices[].logprobs.content[].top_logprobs[].logprob", "choices[].logprobs.content[].top_logprobs[].bytes",
        "choices[].logprobs.refusal", "choices[].finish_reason", "usage",
    ),
}
_TERMINAL = ("response.completed", "response.incomplete")
_REASONING_DELTAS = {"response.reasoning_summary_text.delta": "summary_index",
                     "response.reasoning_text.delta": "content_index"}


class ResponsesChunks(ChatChunkWriter):
    """One Responses stream -> OpenAI chat chunks (a :class:`~.base.StreamTranslator`)."""

    def __init__(self, request: dict[str, Any] | None = None) -> None:
        super().__init__(request)
        self._logprobs = wants_logprobs(mapping(request))
        self._started = False
        self._calls: dict[str, dict[str, Any]] = {}  # function_call item id -> index, arguments sent so far
        self._said: dict[str, str] = {}  # message item id -> text sent so far
        self._thinking: tuple[Any, Any] | None = None  # the reasoning piece last sent: (item id, part index)
        self._finish: str | None = None

    # -- StreamTranslator ------------------------------------------------------

    def feed(self, event: SSEEvent) -> bytes:
        if self._done:
            return b""
        data = event_json(event)
        if not isinstance(data, dict):
            return b""
        kind = text(data.get("type")) or event.event
        if kind == "error":
            return self.error(error_message(data))
        if kind == "response.failed":
            failure = mapping(mapping(data.get("response")).get("error"))
            return self.error(text(failure.get("message")) or "upstream response failed")
        out = [self._start(mapping(data.get("response")))]
        if kind == "response.output_item.added" and mapping(data.get("item")).get("type") == "function_call":
            out.append(self._open_call(mapping(data["item"])))
        elif kind == "response.output_item.done":
            out.append(self._item_done(mapping(data.get("item"))))
        elif kind == "response.output_text.delta":
            out.append(self._text(data))
        elif kind == "response.refusal.delta" and text(data.get("delta")):
            out.append(self._chunk({"refusal": data["delta"]}))
        elif kind in _REASONING_DELTAS:
            out.append(self._reasoning(data, _REASONING_DELTAS[kind]))
        elif kind == "response.function_call_arguments.delta":
            out.append(self._arguments(data.get("item_id"), data.get("delta")))
        elif kind == "response.function_call_arguments.done":
            out.append(self._catch_up_arguments(data.get("item_id"), data.get("arguments")))
        elif kind in _TERMINAL:
            out.append(self._complete(mapping(data.get("response"))))
        return b"".join(out)

    def _finished(self) -> bool:
        return self._finish is not None

    # -- content ---------------------------------------------------------------

    def _start(self, response: dict[str, Any]) -> bytes:
        """The role chunk, once; the response's id, model and time, whenever an event carries them."""
        if text(response.get("id")) and self._id is None:
            self._id = completion_id(response["id"])
        self._model = text(response.get("model")) or self._model
        if "created_at" in response:
            self._created = created(response["created_at"])
        if self._started:
            return b""
        self._started = True
        return self._chunk({"role": "assistant", "content": ""})

    def _text(self, data: dict[str, Any]) -> bytes:
        piece = data.get("delta")
        if not isinstance(piece, str) or not piece:
            return b""
        item = text(data.get("item_id")) or ""
        self._said[item] = self._said.get(item, "") + piece
        logprobs = [token_logprob(e, with_bytes=False) for e in listed(data.get("logprobs"))] if self._logprobs else None
        return self._chunk({"content": piece}, logprobs=logprobs)

    def _reasoning(self, data: dict[str, Any], part_key: str) -> bytes:
        piece = data.get("delta")
        if not isinstance(piece, str) or not piece:
            return b""
        where = (data.get("item_id"), data.get(part_key))
        if self._thinking is not None and self._thinking != where:
            piece = REASONING_JOIN + piece  # a new summary part (or reasoning item): a new paragraph
        self._thinking = where
        return self._chunk({"reasoning_content": piece})

    def _call_key(self, item: dict[str, Any]) -> str:
        """The key a function_call item is known by: its id, or the id of the call already open with its call_id."""
        key = text(item.get("id"))
        if key is None or key not in self._calls:
            call_id = text(item.get("call_id"))
            key = next((k for k, state in self._calls.items() if call_id and state["call_id"] == call_id), key)
        return key or text(item.get("call_id")) or ""

    def _open_call(self, item: dict[str, Any]) -> bytes:
        key = self._call_key(item)
        if key in self._calls:
            return b""
        call = tool_call(item)
        self._calls[key] = {"index": len(self._calls), "call_id": call["id"], "sent": ""}
        call["function"]["arguments"] = ""
        opened = self._chunk({"tool_calls": [{"index": self._calls[key]["index"], **call}]})
        return opened + self._catch_up_arguments(key, item.get("arguments"))

    def _arguments(self, item_id: Any, piece: Any) -> bytes:
        state = self._calls.get(item_id) if isinstance(item_id, str) else None
        if state is None or not isinstance(piece, str) or not piece:
            return b""  # arguments of a call never announced: the item's done event carries them whole
        state["sent"] += piece
        return self._chunk({"tool_calls": [{"index": state["index"], "function": {"arguments": piece}}]})

    def _catch_up_arguments(self, item_id: Any, whole: Any) -> bytes:
        """What the argument deltas did not carry, when the whole arguments are known."""
        state = self._calls.get(item_id) if isinstance(item_id, str) else None
        if state is None or not isinstance(whole, str) or not whole.startswith(state["sent"]):
            return b""
        return self._arguments(item_id, whole[len(state["sent"]):])

    def _item_done(self, item: dict[str, Any]) -> bytes:
        if item.get("type") == "function_call":
            key = self._call_key(item)
            return self._open_call(item) if key not in self._calls else self._catch_up_arguments(key, item.get("arguments"))
        if item.get("type") != "message":
            return b""
        key = text(item.get("id"))
        if key is None and self._said:
            return b""  # an item without its id, after text was streamed: no telling what it repeats
        whole = "".join(p["text"] for p in map(mapping, listed(item.get("content")))
                        if p.get("type") == "output_text" and isinstance(p.get("text"), str))
        sent = self._said.get(key or "", "")
        if not whole.startswith(sent) or len(whole) == len(sent):
            return b""
        self._said[key or ""] = whole
        return self._chunk({"content": whole[len(sent):]})

    # -- output ----------------------------------------------------------------

    def _complete(self, response: dict[str, Any]) -> bytes:
        out = [self._item_done(mapping(item)) for item in listed(response.get("output"))]
        self._finish = finish_reason(response, bool(self._calls))
        out.append(self._chunk({}, finish=self._finish))
        out.append(self._close(chat_usage(response.get("usage"))))
        return b"".join(out)

    def _end(self) -> bytes:
        return b""  # the terminal event already ended the client's stream

    def _chunk(self, delta: dict[str, Any], finish: str | None = None, logprobs: list[dict[str, Any]] | None = None) -> bytes:
        return self._choice({"index": 0, "delta": delta,
                             "logprobs": {"content": logprobs, "refusal": None} if logprobs is not None else None,
                             "finish_reason": finish})
