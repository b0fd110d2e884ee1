"""OpenAI Responses (``POST /v1/responses``), JSON and SSE.

Shapes follow OpenAI's published OpenAPI document (2026-08-21): the response
object example (field set and order, ``usage.input_tokens_details`` with
``cached_tokens`` and ``cache_write_tokens``, ``output_tokens_details``),
the streaming example (``event:`` lines named like the ``type`` field:
``response.created``, ``response.in_progress``, ``response.output_item.added``,
``response.content_part.added``, ``response.output_text.delta``, ...,
``response.completed``; no ``[DONE]``), and the event schemas' required
fields (``sequence_number`` on every event, ``logprobs`` on text deltas,
``name`` on ``response.function_call_arguments.done``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..usage import Tokens
from .openai_chat import _ERRORS, JSON, SSE, OpenAIWire, function_tools, obfuscation
from .scenario import Scenario
from .wire import (
    BadRequest,
    Prepared,
    RequestView,
    body_of,
    compact,
    indented,
    number_slot,
    slot,
    sse,
    stream_of,
)


def responses_usage(t: Tokens) -> dict[str, Any]:
    return {
        "input_tokens": t.prompt,
        "input_tokens_details": {"cached_tokens": t.cache_read, "cache_write_tokens": t.cache_write},
        "output_tokens": t.output,
        "output_tokens_details": {"reasoning_tokens": t.reasoning},
        "total_tokens": t.prompt + t.output,
    }


def _response(view: RequestView, status: str, output: list[Any], usage: Tokens | None) -> dict[str, Any]:
    b = view.body
    reasoning = b.get("reasoning") or {}
    return {
        "id": "resp_" + slot("resp"), "object": "response", "created_at": number_slot("created"),
        "status": status, "completed_at": number_slot("created") if status == "completed" else None,
        "error": None, "incomplete_details": None, "instructions": b.get("instructions"),
        "max_output_tokens": b.get("max_output_tokens"), "model": view.model, "output": output,
        "parallel_tool_calls": b.get("parallel_tool_calls", True),
        "previous_response_id": b.get("previous_response_id"),
        "reasoning": {"effort": reasoning.get("effort"), "summary": reasoning.get("summary")},
        "store": b.get("store", True), "temperature": b.get("temperature", 1.0),
        "text": b.get("text") or {"format": {"type": "text"}}, "tool_choice": b.get("tool_choice", "auto"),
        "tools": b.get("tools") or [], "top_p": b.get("top_p", 1.0), "truncation": b.get("truncation", "disabled"),
        "usage": responses_usage(usage) if usage else None, "user": b.get("user"), "metadata": b.get("metadata") or {},
    }


def _items(s: Scenario, done: bool) -> list[dict[str, Any]]:
    """Output items: reasoning (when the answer reasoned), then the message or the function call."""
    status = "completed" if done else "in_progress"
    items: list[dict[str, Any]] = []
    if s.usage.reasoning:
        items.append({"id": "rs_" + slot("rs"), "type": "reasoning", "summary": []})
    if s.tool_call:
        items.append({"id": "fc_" + slot("fc"), "type": "function_call", "status": status,
                      "arguments": s.tool_call.arguments if done else "", "call_id": "call_" + slot("call"),
                      "name": s.tool_call.name})
    else:
        part = {"type": "output_text", "annotations": [], "logprobs": [], "text": s.text}
        items.append({"id": "msg_" + slot("item"), "type": "message", "status": status,
                      "content": [part] if done else [], "role": "assistant"})
    return items


class OpenAIResponses(OpenAIWire):
    name = "openai-responses"

    def stream_error(self, status: int = 500, message: str = "") -> bytes:
        """A failure after the 200: an ``error`` event with the details nested under ``error``, as recorded
        streams have it (tests/providers/data/openai-responses-stream-error-quota.sse); the stream ends there."""
        kind, code, default = _ERRORS.get(status, ("server_error", None, ""))
        error = {"type": kind, "code": code or kind, "message": message or default, "param": None}
        return sse(compact({"type": "error", "sequence_number": 0, "error": error}), "error")

    def view(self, body: dict[str, Any], match: Mapping[str, str], query: Mapping[str, str]) -> RequestView:
        given = body.get("input")
        if not body.get("model") or not isinstance(given, (str, list)) or not given:
            raise BadRequest("'model' and 'input' are required.")
        tools = function_tools(body.get("tools"), nested=False)
        last = given[-1] if isinstance(given, list) and isinstance(given[-1], dict) else {}
        wants = bool(tools) and body.get("tool_choice") != "none" and last.get("type") != "function_call_output"
        prompt = [body.get("instructions"), given, body.get("tools")]
        return RequestView(str(body["model"]), bool(body.get("stream")), prompt, tools, wants, body)

    def prepare(self, view: RequestView, scenario: Scenario) -> Prepared:
        if not view.stream:
            body = indented(_response(view, "completed", _items(scenario, True), scenario.usage)) + b"\n"
            return body_of(JSON, scenario, "resp", body, scenario.usage)
        return stream_of(SSE, scenario, "resp", _events(view, scenario))


def _events(view: RequestView, s: Scenario) -> list[tuple[bytes, Tokens | None]]:
    events: list[tuple[bytes, Tokens | None]] = []

    def emit(kind: str, sent: Tokens | None = None, **fields: Any) -> None:
        events.append((sse(compact({"type": kind, "sequence_number": len(events), **fields}), kind), sent))

    emit("response.created", response=_response(view, "in_progress", [], None))
    emit("response.in_progress", response=_response(view, "in_progress", [], None))
    started, finished = _items(s, False), _items(s, True)
    for index, (item, done) in enumerate(zip(started, finished)):
        emit("response.output_item.added", output_index=index, item=item)
        if item["type"] == "function_call":
            for n, piece in enumerate(s.tool_call.pieces if s.tool_call else ()):
                emit("response.function_call_arguments.delta", item_id=item["id"], output_index=index,
                     delta=piece, obfuscation=obfuscation(s, n))
            emit("response.function_call_arguments.done", item_id=item["id"], output_index=index,
                 name=item["name"], arguments=done["arguments"])
        elif item["type"] == "message":
            empty = {"type": "output_text", "annotations": [], "logprobs": [], "text": ""}
            where = {"item_id": item["id"], "output_index": index, "content_index": 0}
            emit("response.content_part.added", **where, part=empty)
            for n, piece in enumerate(s.pieces):
                emit("response.output_text.delta", **where, delta=piece, logprobs=[], obfuscation=obfuscation(s, n))
            emit("response.output_text.done", **where, text=s.text, logprobs=[])
            emit("response.content_part.done", **where, part=dict(empty, text=s.text))
        emit("response.output_item.done", output_index=index, item=done)
    emit("response.completed", s.usage, response=_response(view, "completed", finished, s.usage))
    return events
