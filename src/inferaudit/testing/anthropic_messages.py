"""Anthropic Messages (``POST /v1/messages``, ``POST /v1/messages/count_tokens``), JSON and SSE.

Shapes follow Anthropic's streaming documentation (event flow
``message_start`` → per block ``content_block_start`` / ``content_block_delta``
/ ``content_block_stop`` → ``message_delta`` → ``message_stop``; a ``ping``
after the first block starts, written ``{"type": "ping"}`` as the docs and
the API do; ``input_json_delta`` pieces for ``tool_use``; cumulative counts
on ``message_delta``), real Claude Code session logs (v2.1.39, this
repository's sample data: message field order, ``usage`` with
``cache_creation`` split into ``ephemeral_5m/1h_input_tokens``,
``service_tier``, ``inference_geo``, ``tool_use`` blocks with ``caller``),
and the official Python SDK's types (``output_tokens_details.thinking_tokens``,
message-delta usage carrying input and cache counts too). Errors are
``{"type":"error","error":{...},"request_id":...}``; a request without
``anthropic-version`` gets the API's 400.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..usage import Tokens
from .scenario import Scenario, ToolSpec
from .wire import BadRequest, Prepared, RequestView, body_of, compact, slot, sse, stream_of

JSON = "application/json"
SSE = "text/event-stream; charset=utf-8"

_ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
                404: "not_found_error", 413: "request_too_large", 429: "rate_limit_error", 500: "api_error",
                529: "overloaded_error"}
_MESSAGES = {429: "Number of request tokens has exceeded your per-minute rate limit.",
             529: "Overloaded", 500: "Internal server error", 503: "Service unavailable"}


def anthropic_error(status: int, message: str, request_id: str) -> tuple[bytes, str]:
    kind = _ERROR_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")
    body = {"type": "error", "error": {"type": kind, "message": message or _MESSAGES.get(status, kind)},
            "request_id": request_id}
    return compact(body), JSON


def usage_json(t: Tokens, output: int, *, start: bool) -> dict[str, Any]:
    """``usage`` of a message (``start``: as in ``message_start`` and whole messages) or of a ``message_delta``."""
    u: dict[str, Any] = {"input_tokens": t.input, "cache_creation_input_tokens": t.cache_write,
                         "cache_read_input_tokens": t.cache_read}
    if start:
        u["cache_creation"] = {"ephemeral_5m_input_tokens": t.cache_write_5m,
                               "ephemeral_1h_input_tokens": t.cache_write_1h}
    u["output_tokens"] = output
    if t.reasoning and output == t.output:
        u["output_tokens_details"] = {"thinking_tokens": t.reasoning}
    if start:
        u.update(service_tier="standard", inference_geo="global")
    return u


def _tools(body: dict[str, Any]) -> list[ToolSpec]:
    found = []
    for tool in body.get("tools") or ():
        if isinstance(tool, dict) and tool.get("type", "custom") == "custom" and tool.get("name"):
            props = (tool.get("input_schema") or {}).get("properties") or {}
            found.append(ToolSpec(str(tool["name"]), tuple(props)))
    return found


def _ends_with_tool_result(messages: list[Any]) -> bool:
    last = messages[-1] if messages and isinstance(messages[-1], dict) else {}
    content = last.get("content")
    return isinstance(content, list) and any(isinstance(b, dict) and b.get("type") == "tool_result" for b in content)


class AnthropicMessages:
    name = "anthropic"
    request_id_header = "request-id"

    def check(self, headers: Mapping[str, str], query: Mapping[str, str]) -> None:
        if not headers.get("x-api-key") and not headers.get("authorization"):
            raise BadRequest("x-api-key header is required", 401)
        if not headers.get("anthropic-version"):
            raise BadRequest("anthropic-version: header is required")

    def error(self, status: int, message: str, request_id: str = "") -> tuple[bytes, str]:
        return anthropic_error(status, message, request_id)

    def view(self, body: dict[str, Any], match: Mapping[str, str], query: Mapping[str, str]) -> RequestView:
        messages = body.get("messages")
        for name in ("model", "max_tokens", "messages"):
            if body.get(name) is None:
                raise BadRequest(f"{name}: Field required")
        if not isinstance(messages, list) or not messages:
            raise BadRequest("messages: at least one message is required")
        tools = _tools(body)
        choice = body.get("tool_choice") or {}
        wants = bool(tools) and choice.get("type") != "none" and not _ends_with_tool_result(messages)
        prompt = [body.get("system"), messages, body.get("tools")]
        return RequestView(str(body["model"]), bool(body.get("stream")), prompt, tools, wants, body)

    def prepare(self, view: RequestView, scenario: Scenario) -> Prepared:
        if view.stream:
            return stream_of(SSE, scenario, "amsg", _events(view, scenario))
        return body_of(JSON, scenario, "amsg", compact(_message(view, scenario, done=True)), scenario.usage)


class AnthropicCountTokens(AnthropicMessages):
    """``count_tokens``: the prompt's whole size, as the same prompt's message would bill it."""

    def view(self, body: dict[str, Any], match: Mapping[str, str], query: Mapping[str, str]) -> RequestView:
        return super().view({"max_tokens": 1, **body, "stream": False}, match, query)

    def prepare(self, view: RequestView, scenario: Scenario) -> Prepared:
        return body_of(JSON, scenario, "", compact({"input_tokens": scenario.usage.prompt}), None)


def _message(view: RequestView, s: Scenario, *, done: bool) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    if done and s.pieces:
        content.append({"type": "text", "text": s.text})
    if done and s.tool_call:
        content.append({"type": "tool_use", "id": "toolu_" + slot("toolu"), "name": s.tool_call.name,
                        "input": json.loads(s.tool_call.arguments), "caller": {"type": "direct"}})
    stop = ("tool_use" if s.tool_call else "end_turn") if done else None
    output = s.usage.output if done else min(1, s.usage.output)
    return {"model": view.model, "id": "msg_" + slot("amsg"), "type": "message", "role": "assistant",
            "content": content, "stop_reason": stop, "stop_sequence": None,
            "usage": usage_json(s.usage, output, start=True)}


def _events(view: RequestView, s: Scenario) -> list[tuple[bytes, Tokens | None]]:
    t = s.usage
    events: list[tuple[bytes, Tokens | None]] = []

    def emit(kind: str, data: bytes, sent: Tokens | None = None) -> None:
        events.append((sse(data, kind), sent))

    started = Tokens(t.input, t.cache_read, t.cache_write_5m, t.cache_write_1h, min(1, t.output))
    emit("message_start", compact({"type": "message_start", "message": _message(view, s, done=False)}), started)
    blocks: list[tuple[dict[str, Any], str, tuple[str, ...]]] = []
    if s.pieces:
        blocks.append(({"type": "text", "text": ""}, "text_delta", s.pieces))
    if s.tool_call:
        block = {"type": "tool_use", "id": "toolu_" + slot("toolu"), "name": s.tool_call.name, "input": {},
                 "caller": {"type": "direct"}}
        blocks.append((block, "input_json_delta", ("",) + s.tool_call.pieces))
    for index, (block, kind, pieces) in enumerate(blocks):
        emit("content_block_start", compact({"type": "content_block_start", "index": index, "content_block": block}))
        if index == 0:
            emit("ping", b'{"type": "ping"}')
        field = "text" if kind == "text_delta" else "partial_json"
        for piece in pieces:
            delta = {"type": "content_block_delta", "index": index, "delta": {"type": kind, field: piece}}
            emit("content_block_delta", compact(delta))
        emit("content_block_stop", compact({"type": "content_block_stop", "index": index}))
    delta = {"type": "message_delta",
             "delta": {"stop_reason": "tool_use" if s.tool_call else "end_turn", "stop_sequence": None},
             "usage": usage_json(t, t.output, start=False)}
    emit("message_delta", compact(delta), t)
    emit("message_stop", compact({"type": "message_stop"}))
    return events


def models_body(models: list[str]) -> bytes:
    """``GET /v1/models`` as Anthropic answers it (when the request carries ``anthropic-version``)."""
    data = [{"type": "model", "id": m, "display_name": m, "created_at": "2025-01-01T00:00:00Z"} for m in models]
    first, last = (models[0], models[-1]) if models else (None, None)
    return compact({"data": data, "has_more": False, "first_id": first, "last_id": last})
