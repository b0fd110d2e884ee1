"""Anthropic Messages (``/v1/messages``).

Usage conventions:

- ``input_tokens`` *excludes* cache reads and writes; writes are split by TTL
  in ``cache_creation`` (``Tokens.from_anthropic`` does the mapping).
- In a stream, ``message_start`` carries the input and cache counts, and
  every ``message_delta`` carries *cumulative* counts: its ``output_tokens``
  is the running total, never an increment. When a server-side tool runs
  (code execution, web search) the final ``message_delta`` also restates
  input and cache counts, larger than ``message_start``'s. So a delta's
  non-null fields *replace* the ones before; nothing is ever added. The
  delta has no TTL split; the split from ``message_start`` is kept and any
  extra written tokens count as 5-minute writes, Anthropic's default.
- ``output_tokens_details.thinking_tokens`` is the reasoning part of
  ``output_tokens`` (always less or equal, per the API reference).
- Client tool calls are ``tool_use`` content blocks; ``server_tool_use``
  blocks run at Anthropic and are counted apart in ``extra``.
- A failure after the 200 is an ``event: error`` with the same error object
  as an HTTP error body.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ..usage import Tokens
from ._common import ModelInBody, dig, dumps, event_json, listed, mapping, response_object, text, tokens_into, usage_extras
from .base import SSEEvent, UsageReport
from .sse import encode_event

KNOWN_USAGE = frozenset(
    {
        "input_tokens",
        "output_tokens",
        "cache_read_input_tokens",
        "cache_creation_input_tokens",
        "cache_creation.ephemeral_5m_input_tokens",
        "cache_creation.ephemeral_1h_input_tokens",
        "output_tokens_details.thinking_tokens",
    }
)
CLIENT_TOOL_BLOCKS = frozenset({"tool_use"})
SERVER_TOOL_BLOCKS = frozenset({"server_tool_use", "mcp_tool_use"})

# HTTP status -> Anthropic error type, from the API's errors page; other 4xx are invalid_request_error.
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    503: "overloaded_error",
    504: "timeout_error",
    529: "overloaded_error",
}


def error_type(status: int) -> str:
    return ERROR_TYPES.get(status) or ("api_error" if status >= 500 else "invalid_request_error")


def map_usage(usage: dict[str, Any]) -> Tokens:
    tokens = Tokens.from_anthropic(usage)
    thinking = dig(usage, "output_tokens_details", "thinking_tokens")
    if isinstance(thinking, int) and not isinstance(thinking, bool) and thinking > 0:
        # informational only: already inside output_tokens, so only the reasoning bucket is set
        tokens = dataclasses.replace(tokens, reasoning=min(thinking, tokens.output))
    return tokens


def _blocks(content: Any) -> tuple[int, int]:
    kinds = [text(mapping(block).get("type")) for block in listed(content)]
    return sum(k in CLIENT_TOOL_BLOCKS for k in kinds), sum(k in SERVER_TOOL_BLOCKS for k in kinds)


def _fill(report: UsageReport, usage: Any, server_tools: int) -> UsageReport:
    if isinstance(usage, dict):
        tokens_into(report, lambda: map_usage(usage))
        report.extra.update(usage_extras(usage, KNOWN_USAGE))
    if server_tools:
        report.extra["server_tool_calls"] = server_tools
    return report


class MessagesStreamUsage:
    """Usage of one Messages stream: ``message_start`` counts, replaced field by field by each delta."""

    def __init__(self) -> None:
        self._report = UsageReport()
        self._usage: dict[str, Any] = {}
        self._server_tools = 0

    def feed(self, event: SSEEvent) -> None:
        if event.event is not None and event.event not in _HANDLERS:
            return  # content_block_delta, ping, ...: nothing for the ledger, and most of a stream
        data = event_json(event)
        if not isinstance(data, dict):
            return
        handler = _HANDLERS.get(text(data.get("type")) or event.event or "")
        if handler is not None:
            handler(self, data)

    def _start(self, data: dict[str, Any]) -> None:
        message = mapping(data.get("message"))
        self._report.response_id = text(message.get("id"))
        self._report.model = text(message.get("model"))
        self._usage = dict(mapping(message.get("usage")))

    def _block(self, data: dict[str, Any]) -> None:
        client, server = _blocks([data.get("content_block")])
        self._report.tool_calls += client
        self._server_tools += server

    def _delta(self, data: dict[str, Any]) -> None:
        self._report.finish_reason = text(dig(data, "delta", "stop_reason")) or self._report.finish_reason
        for key, value in mapping(data.get("usage")).items():
            if value is not None:  # cumulative: replace, never add
                self._usage[key] = value

    def _stop(self, data: dict[str, Any]) -> None:
        self._report.complete = True

    def _error(self, data: dict[str, Any]) -> None:
        self._report.error = text(dig(data, "error", "message")) or dumps(data.get("error"))

    def report(self) -> UsageReport:
        report = self._report
        report.extra = {}
        return _fill(report, self._usage or None, self._server_tools)


_HANDLERS = {
    "message_start": MessagesStreamUsage._start,
    "content_block_start": MessagesStreamUsage._block,
    "message_delta": MessagesStreamUsage._delta,
    "message_stop": MessagesStreamUsage._stop,
    "error": MessagesStreamUsage._error,
}


class AnthropicMessages(ModelInBody):
    """The ``anthropic-messages`` wire protocol."""

    name = "anthropic-messages"

    def usage(self, body: dict[str, Any]) -> UsageReport:
        body = response_object(body)
        report = UsageReport(
            model=text(body.get("model")),
            response_id=text(body.get("id")),
            finish_reason=text(body.get("stop_reason")),
            complete=True,
        )
        if body.get("type") == "error":
            report.error = text(dig(body, "error", "message")) or dumps(body.get("error"))
        client, server = _blocks(body.get("content"))
        report.tool_calls = client
        return _fill(report, body.get("usage"), server)

    def stream_usage(self) -> MessagesStreamUsage:
        return MessagesStreamUsage()

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        return {"type": "error", "error": {"type": error_type(status), "message": message}}

    def error_event(self, message: str) -> bytes:
        return encode_event(dumps(self.error_body(500, message)), "error")
