"""Gemini ``generateContent`` / ``streamGenerateContent?alt=sse`` (Google AI and Vertex AI).

Usage conventions (``usageMetadata``):

- ``promptTokenCount`` *includes* ``cachedContentTokenCount``.
- ``toolUsePromptTokenCount`` (prompt tokens of built-in tool results, e.g.
  search grounding) comes *on top of* ``promptTokenCount`` and is billed as
  input: ``totalTokenCount = prompt + toolUsePrompt + candidates + thoughts``.
- ``thoughtsTokenCount`` is billed as output *beside*
  ``candidatesTokenCount``, not inside it.
- In a stream every chunk repeats the *cumulative* usage so far; early chunks
  may carry a ``usageMetadata`` with no counts at all (Vertex sends only
  ``trafficType``). The last one with counts is the call's usage; summing
  chunks would count the answer many times.
- The model is in the path (``/v1beta/models/{model}:generateContent``), not
  the body; the response names it in ``modelVersion``.
- A function call is a ``functionCall`` part. With streamed arguments
  (Vertex ``streamFunctionCallArguments``) one call spans many parts: only
  the part that names the function starts a call.
- Errors are ``{"error": {"code", "message", "status"}}`` with a
  ``google.rpc.Code`` name; mid-stream the same object arrives as a data line.
  The SSE framing ends lines with ``\\r\\n``.
"""

from __future__ import annotations

import re
from typing import Any

from ..usage import Tokens
from ._common import dig, dumps, event_json, listed, mapping, response_object, text, tokens_into, usage_extras
from .base import SSEEvent, UsageReport
from .sse import encode_event

COUNT_FIELDS = (
    "promptTokenCount",
    "cachedContentTokenCount",
    "candidatesTokenCount",
    "thoughtsTokenCount",
    "toolUsePromptTokenCount",
)
KNOWN_USAGE = frozenset((*COUNT_FIELDS, "totalTokenCount"))

PATH = re.compile(r"^/v1(?:beta)?/models/(?P<model>[^/:?]+):(?P<method>generateContent|streamGenerateContent)\b")

# HTTP status -> google.rpc.Code name, as Google's APIs pair them.
STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def status_name(status: int) -> str:
    return STATUS_NAMES.get(status) or ("INTERNAL" if status >= 500 else "FAILED_PRECONDITION")


def has_counts(usage: Any) -> bool:
    return isinstance(usage, dict) and any(isinstance(usage.get(f), int) for f in COUNT_FIELDS)


def map_usage(usage: dict[str, Any]) -> Tokens:
    prompt = usage.get("promptTokenCount") or 0
    tool_prompt = usage.get("toolUsePromptTokenCount") or 0
    return Tokens.from_prompt_including_cached(
        prompt + tool_prompt if isinstance(prompt, int) and isinstance(tool_prompt, int) else prompt,
        usage.get("cachedContentTokenCount"),
        usage.get("candidatesTokenCount"),
        usage.get("thoughtsTokenCount"),
        reasoning_in_output=False,
    )


def _function_calls(chunk: dict[str, Any]) -> int:
    return sum(
        1
        for candidate in listed(chunk.get("candidates"))
        for part in listed(dig(candidate, "content", "parts"))
        if text(dig(part, "functionCall", "name"))
    )


def _finish_reason(chunk: dict[str, Any]) -> str | None:
    candidates = listed(chunk.get("candidates"))
    if candidates:
        return text(mapping(candidates[0]).get("finishReason"))
    return text(dig(chunk, "promptFeedback", "blockReason"))  # a blocked prompt: 200, no candidates


def _fill(report: UsageReport, usage: Any) -> UsageReport:
    if has_counts(usage):
        tokens_into(report, lambda: map_usage(usage))
        report.extra.update(usage_extras(usage, KNOWN_USAGE))
    return report


class GeminiStreamUsage:
    """Usage of one ``streamGenerateContent?alt=sse`` stream: the last cumulative usage wins."""

    def __init__(self) -> None:
        self._report = UsageReport()
        self._usage: dict[str, Any] | None = None

    def feed(self, event: SSEEvent) -> None:
        chunk = event_json(event)
        if not isinstance(chunk, dict):
            return
        report = self._report
        if chunk.get("error"):
            report.error = text(dig(chunk, "error", "message")) or dumps(chunk["error"])
            return
        report.model = text(chunk.get("modelVersion")) or report.model
        report.response_id = text(chunk.get("responseId")) or report.response_id
        report.tool_calls += _function_calls(chunk)
        finish = _finish_reason(chunk)
        if finish:
            report.finish_reason = finish
            report.complete = True  # Gemini has no end marker: a finish reason is the last word
        if has_counts(chunk.get("usageMetadata")):
            self._usage = chunk["usageMetadata"]

    def report(self) -> UsageReport:
        report = self._report
        report.extra = {}
        return _fill(report, self._usage)


class Gemini:
    """The ``gemini`` wire protocol."""

    name = "gemini"

    def request_model(self, body: dict[str, Any], path: str) -> str | None:
        match = PATH.match(path)
        return match.group("model") if match else None

    def is_stream(self, body: dict[str, Any], path: str) -> bool:
        match = PATH.match(path)
        return bool(match) and match.group("method") == "streamGenerateContent"

    def prepare_upstream(self, body: dict[str, Any], stream: bool) -> tuple[dict[str, Any], bool]:
        """Gemini always reports usage; note the stream needs ``?alt=sse`` on the URL, not in the body."""
        return body, False

    def usage(self, body: dict[str, Any]) -> UsageReport:
        body = response_object(body)
        report = UsageReport(
            model=text(body.get("modelVersion")),
            response_id=text(body.get("responseId")),
            finish_reason=_finish_reason(body),
            tool_calls=_function_calls(body),
            complete=True,
        )
        if body.get("error"):
            report.error = text(dig(body, "error", "message")) or dumps(body["error"])
        return _fill(report, body.get("usageMetadata"))

    def stream_usage(self) -> GeminiStreamUsage:
        return GeminiStreamUsage()

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        return {"error": {"code": status, "message": message, "status": status_name(status)}}

    def error_event(self, message: str) -> bytes:
        return encode_event(dumps(self.error_body(500, message)), line_end="\r\n")
