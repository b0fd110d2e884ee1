"""OpenAI Chat Completions, and every OpenAI-compatible server (vLLM, SGLang, llama.cpp, Ollama).

Usage conventions:

- ``prompt_tokens`` *includes* ``prompt_tokens_details.cached_tokens`` and
  ``completion_tokens`` includes ``completion_tokens_details.reasoning_tokens``.
- A stream carries usage only when the request says
  ``stream_options.include_usage``; it then ends with one extra chunk whose
  ``choices`` is empty and whose ``usage`` is set, before ``data: [DONE]``.
  Azure sends an empty-``choices`` chunk *first* too (prompt filter results,
  no usage), so "usage-only" means ``usage`` is set, not ``choices`` empty.
  vLLM with ``continuous_usage_stats`` repeats cumulative usage on every
  chunk: the last one wins, nothing is added.
- Self-hosted servers report speculative decoding per request: vLLM in a
  top-level ``metrics.speculative_decoding`` object (``--per-request-spec-
  decode-metrics``), SGLang in ``sglext`` / ``meta_info``, llama.cpp in ``timings.draft_n`` /
  ``timings.draft_n_accepted`` (readers in :mod:`.spec_counters`). They land in
  ``UsageReport.extra`` under the ``Call`` field names (``spec_draft_tokens``,
  ``spec_accepted_tokens``, ``spec_steps``), beside the raw ``metrics`` /
  ``timings`` / ``meta_info`` / ``sglext`` objects.
- A failure after the 200 arrives as ``data: {"error": {...}}`` (what the
  openai SDK raises ``APIError`` on).
"""

from __future__ import annotations

from typing import Any

from ..usage import Tokens
from ._common import ModelInBody, dig, dumps, event_json, listed, mapping, response_object, text, tokens_into, usage_extras
from .base import SSEEvent, UsageReport
from .spec_counters import read_spec
from .sse import DONE, encode_event

USAGE_PATHS = (  # what map_usage reads, in the order Tokens.from_prompt_including_cached takes them
    "prompt_tokens",
    "prompt_tokens_details.cached_tokens",
    "completion_tokens",
    "completion_tokens_details.reasoning_tokens",
    "prompt_tokens_details.cache_write_tokens",
)
KNOWN_USAGE = frozenset({*USAGE_PATHS, "total_tokens"})
_USAGE_KEYS = tuple(tuple(path.split(".")) for path in USAGE_PATHS)

SERVER_EXTRAS = ("metrics", "timings", "meta_info", "sglext")  # top-level objects kept verbatim when a server sends them

# JSON paths this module reads (and writes), per OpenAI object: ``[]`` is each item of an array,
# ``*`` every field (usage extras are kept whole). ``inferaudit drift check`` compares them with
# OpenAI's published spec; tests/drift/test_fields.py fails when the code reads a path not
# listed. Self-hosted servers' own objects (SERVER_EXTRAS, :mod:`.spec_counters`) are not listed.
READS: dict[str, tuple[str, ...]] = {
    "chat.response": (
        "id", "model", "error", "error.message", "choices[].finish_reason", "choices[].message.tool_calls",
        "choices[].message.function_call", "usage",
    ),
    "chat.chunk": (
        "id", "model", "error", "error.message", "choices[].index", "choices[].finish_reason",
        "choices[].delta.tool_calls[].index", "choices[].delta.tool_calls[].id", "choices[].delta.function_call.name",
        "usage",
    ),
    "chat.usage": (*USAGE_PATHS, "*"),
    "chat.request": ("model", "stream", "stream_options.include_usage"),
}
WRITES: dict[str, tuple[str, ...]] = {
    "chat.request": ("stream_options.include_usage",),
    "chat.error": ("error.message", "error.type", "error.param", "error.code"),
    "chat.chunk": ("error.message", "error.type", "error.param", "error.code"),  # error_event: a failure mid-stream
}

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    409: "conflict_error",
    422: "unprocessable_entity_error",
    429: "rate_limit_error",
}


def error_type(status: int) -> str:
    """OpenAI's error ``type`` for an HTTP status (the openai SDK picks its exception by status)."""
    return ERROR_TYPES.get(status) or ("server_error" if status >= 500 else "invalid_request_error")


def is_usage_only_chunk(chunk: dict[str, Any]) -> bool:
    """The final ``include_usage`` chunk the gateway drops for a client that did not ask for it."""
    return not chunk.get("choices") and isinstance(chunk.get("usage"), dict)


def map_usage(usage: dict[str, Any]) -> Tokens:
    return Tokens.from_prompt_including_cached(*(dig(usage, *keys) for keys in _USAGE_KEYS))


def server_extras(obj: dict[str, Any]) -> dict[str, Any]:
    """Speculative-decoding counters and raw server metrics of one response or chunk."""
    out: dict[str, Any] = {key: obj[key] for key in SERVER_EXTRAS if isinstance(obj.get(key), dict)}
    counters = read_spec(obj)
    if counters is not None:
        out.update(counters.call_fields())
    return out


def _fill(report: UsageReport, usage: Any, server: dict[str, Any]) -> None:
    if isinstance(usage, dict):
        tokens_into(report, lambda: map_usage(usage))
        report.extra.update(usage_extras(usage, KNOWN_USAGE))
    report.extra.update(server)


def _message_tool_calls(message: dict[str, Any]) -> int:
    return len(listed(message.get("tool_calls"))) + (1 if message.get("function_call") else 0)


def _key(value: Any) -> Any:
    """A hashable stand-in for an index an upstream may send as anything."""
    return value if isinstance(value, (int, str)) or value is None else repr(value)


def _server_keys(obj: dict[str, Any]) -> bool:
    """Where servers put speculative counters: vLLM ``metrics``, llama.cpp ``timings``, SGLang ``meta_info`` / ``sglext``."""
    return "metrics" in obj or "timings" in obj or "meta_info" in obj or "sglext" in obj


def _has_server_counters(chunk: dict[str, Any]) -> bool:
    """At the top level, or per choice (SGLang)."""
    if _server_keys(chunk):
        return True
    choices = chunk.get("choices")
    return isinstance(choices, list) and any(isinstance(c, dict) and _server_keys(c) for c in choices)


def _worth_reading(chunk: dict[str, Any]) -> bool:
    """Whether a chunk after the first carries anything the ledger reads (most are plain content deltas).

    Checked on the parsed chunk, not its text: with ``include_usage`` every chunk carries
    ``"usage": null``, so a substring test would read them all. Run on every chunk of every
    stream, hence the plain loop.
    """
    if chunk.get("usage") or chunk.get("error") or _server_keys(chunk):
        return True
    choices = chunk.get("choices")
    if not isinstance(choices, list):
        return False
    for choice in choices:
        if not isinstance(choice, dict):
            continue
        if choice.get("finish_reason") or _server_keys(choice):
            return True
        delta = choice.get("delta")
        if isinstance(delta, dict) and (delta.get("tool_calls") or delta.get("function_call")):
            return True
    return False


class ChatStreamUsage:
    """Usage of one Chat Completions stream, from its chunks in order."""

    def __init__(self) -> None:
        self._report = UsageReport()
        self._usage: dict[str, Any] | None = None
        self._server: dict[str, Any] = {}
        self._tools: set[tuple[Any, Any]] = set()

    def feed(self, event: SSEEvent) -> None:
        if event.data == DONE:
            self._report.complete = True
            return
        chunk = event_json(event)
        if not isinstance(chunk, dict):
            return
        report = self._report
        if report.response_id is not None and not _worth_reading(chunk):
            return
        if chunk.get("error"):
            report.error = text(dig(chunk, "error", "message")) or dumps(chunk["error"])
            return
        report.response_id = report.response_id or text(chunk.get("id"))
        report.model = report.model or text(chunk.get("model"))
        for choice in listed(chunk.get("choices")):
            choice = mapping(choice)
            report.finish_reason = text(choice.get("finish_reason")) or report.finish_reason
            delta = mapping(choice.get("delta"))
            for call in map(mapping, listed(delta.get("tool_calls"))):
                # the first delta of a call carries its id and name; later ones only argument text
                self._tools.add((_key(choice.get("index")), _key(call.get("index", call.get("id")))))
            if mapping(delta.get("function_call")).get("name"):
                self._tools.add((_key(choice.get("index")), "function_call"))
        if isinstance(chunk.get("usage"), dict):
            self._usage = chunk["usage"]
        if _has_server_counters(chunk):
            self._server.update(server_extras(chunk))

    def report(self) -> UsageReport:
        report = self._report
        report.tool_calls = len(self._tools)
        report.extra = {}
        _fill(report, self._usage, self._server)
        return report


class OpenAIChat(ModelInBody):
    """The ``openai-chat`` wire protocol."""

    name = "openai-chat"

    def prepare_upstream(self, body: dict[str, Any], stream: bool) -> tuple[dict[str, Any], bool]:
        """Ask for the usage chunk on every stream; say whether the client had not asked for it."""
        options = body.get("stream_options")
        if not stream or (isinstance(options, dict) and options.get("include_usage") is True):
            return body, False
        return {**body, "stream_options": {**mapping(options), "include_usage": True}}, True

    def usage(self, body: dict[str, Any]) -> UsageReport:
        body = response_object(body)
        report = UsageReport(model=text(body.get("model")), response_id=text(body.get("id")), complete=True)
        if body.get("error"):
            report.error = text(dig(body, "error", "message")) or dumps(body["error"])
        choices = [mapping(c) for c in listed(body.get("choices"))]
        report.tool_calls = sum(_message_tool_calls(mapping(c.get("message"))) for c in choices)
        report.finish_reason = text(choices[0].get("finish_reason")) if choices else None
        _fill(report, body.get("usage"), server_extras(body))
        return report

    def stream_usage(self) -> ChatStreamUsage:
        return ChatStreamUsage()

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        return {"error": {"message": message, "type": error_type(status), "param": None, "code": None}}

    def error_event(self, message: str) -> bytes:
        return encode_event(dumps(self.error_body(500, message)))
