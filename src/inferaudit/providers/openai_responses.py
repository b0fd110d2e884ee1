"""OpenAI Responses API (``/v1/responses``).

Usage conventions:

- ``usage.input_tokens`` *includes* ``input_tokens_details.cached_tokens``;
  ``output_tokens`` includes ``output_tokens_details.reasoning_tokens``.
- A stream has no ``[DONE]``: it ends with ``response.completed``,
  ``response.incomplete`` or ``response.failed``, each carrying the whole
  response object, usage included. Every event names itself twice (the SSE
  ``event:`` line and ``data.type``); ``data.type`` is read.
- Client-side tool calls are output items (``function_call``,
  ``custom_tool_call``, ...); hosted tools (web search, code interpreter,
  MCP) run at OpenAI and are counted apart, in ``extra["server_tool_calls"]``.
- A failure mid-stream is an ``error`` event, usually followed by
  ``response.failed``.
"""

from __future__ import annotations

from typing import Any

from ..usage import Tokens
from ._common import ModelInBody, dig, dumps, event_json, listed, mapping, response_object, text, tokens_into, usage_extras
from .base import SSEEvent, UsageReport
from .openai_chat import error_type
from .sse import encode_event

USAGE_PATHS = (  # what map_usage reads, in the order Tokens.from_prompt_including_cached takes them
    "input_tokens",
    "input_tokens_details.cached_tokens",
    "output_tokens",
    "output_tokens_details.reasoning_tokens",
    "input_tokens_details.cache_write_tokens",
)
KNOWN_USAGE = frozenset({*USAGE_PATHS, "total_tokens"})
_USAGE_KEYS = tuple(tuple(path.split(".")) for path in USAGE_PATHS)
CLIENT_TOOL_ITEMS = frozenset(
    {"function_call", "custom_tool_call", "computer_call", "local_shell_call", "shell_call", "apply_patch_call"}
)
SERVER_TOOL_ITEMS = frozenset(
    {
        "web_search_call",
        "file_search_call",
        "code_interpreter_call",
        "image_generation_call",
        "mcp_call",
        "tool_search_call",
    }
)
TERMINAL_EVENTS = frozenset({"response.completed", "response.incomplete", "response.failed"})
ITEM_EVENTS = ("response.output_item.added", "response.output_item.done")

# JSON paths this module reads (and writes), per OpenAI object, as in :mod:`.openai_chat`; a stream
# event's path starts with its ``type`` and a colon (``*``: any event). Checked by ``inferaudit
# drift check`` against OpenAI's spec, and kept complete by tests/drift/test_fields.py.
READS: dict[str, tuple[str, ...]] = {
    "responses.response": (
        "id", "model", "status", "incomplete_details.reason", "error", "error.message", "output[].type", "usage",
    ),
    "responses.usage": (*USAGE_PATHS, "*"),
    "responses.event": (
        "*:type", "*:response", "error:message", "error:error.message",
        *(f"{event}:{path}" for event in ITEM_EVENTS for path in ("item.type", "item.id", "output_index")),
    ),
    "responses.request": ("model", "stream"),
}
WRITES: dict[str, tuple[str, ...]] = {
    "responses.error": ("error.message", "error.type", "error.param", "error.code"),
    "responses.event": tuple(
        f"error:{path}" for path in ("type", "sequence_number", "code", "message", "param", "error.type",
                                     "error.code", "error.message", "error.param")
    ),
}


def map_usage(usage: dict[str, Any]) -> Tokens:
    return Tokens.from_prompt_including_cached(*(dig(usage, *keys) for keys in _USAGE_KEYS))


def _item_kinds(items: Any) -> tuple[int, int]:
    kinds = [text(mapping(item).get("type")) for item in listed(items)]
    return sum(k in CLIENT_TOOL_ITEMS for k in kinds), sum(k in SERVER_TOOL_ITEMS for k in kinds)


def _response_report(response: dict[str, Any], report: UsageReport) -> UsageReport:
    report.model = text(response.get("model")) or report.model
    report.response_id = text(response.get("id")) or report.response_id
    status = text(response.get("status"))
    report.finish_reason = text(dig(response, "incomplete_details", "reason")) or status
    if response.get("error"):
        report.error = text(dig(response, "error", "message")) or dumps(response["error"])
    client, server = _item_kinds(response.get("output"))
    report.tool_calls = max(report.tool_calls, client)
    if server:
        report.extra["server_tool_calls"] = server
    usage = response.get("usage")
    if isinstance(usage, dict):
        tokens_into(report, lambda: map_usage(usage))
        report.extra.update(usage_extras(usage, KNOWN_USAGE))
    return report


class ResponsesStreamUsage:
    """Usage of one Responses stream; the terminal event's response object is the authority."""

    def __init__(self) -> None:
        self._report = UsageReport()
        self._tool_items: set[str] = set()

    def feed(self, event: SSEEvent) -> None:
        data = event_json(event)
        if not isinstance(data, dict):
            return
        kind = text(data.get("type")) or event.event
        report = self._report
        if kind == "error":
            report.error = text(data.get("message")) or text(dig(data, "error", "message")) or dumps(data)
        elif kind in ITEM_EVENTS:
            item = mapping(data.get("item"))
            if text(item.get("type")) in CLIENT_TOOL_ITEMS:
                self._tool_items.add(str(item.get("id") or data.get("output_index")))
                report.tool_calls = len(self._tool_items)
        elif isinstance(data.get("response"), dict):  # created, in_progress, and the terminal events
            _response_report(data["response"], report)
            report.complete = report.complete or kind in TERMINAL_EVENTS

    def report(self) -> UsageReport:
        return self._report


class OpenAIResponses(ModelInBody):
    """The ``openai-responses`` wire protocol."""

    name = "openai-responses"

    def usage(self, body: dict[str, Any]) -> UsageReport:
        body = response_object(body)
        return _response_report(body, UsageReport(complete=True))

    def stream_usage(self) -> ResponsesStreamUsage:
        return ResponsesStreamUsage()

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        return {"error": {"message": message, "type": error_type(status), "param": None, "code": None}}

    def error_event(self, message: str) -> bytes:
        """An ``error`` event readable both ways the wire has it.

        The API reference (and the openai SDK's ``ResponseErrorEvent``) puts
        ``code``/``message``/``param`` at the top level; recorded streams nest
        them under ``error``, which is what makes the SDK raise ``APIError``.
        Both are given, so either kind of client sees the failure.
        """
        error = {"type": "server_error", "code": "server_error", "message": message, "param": None}
        data = {"type": "error", "sequence_number": 0, "code": "server_error", "message": message, "param": None}
        return encode_event(dumps({**data, "error": error}), "error")
