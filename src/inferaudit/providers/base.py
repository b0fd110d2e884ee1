"""The provider seam: one small interface per wire protocol.

A *wire protocol* module (OpenAI Chat Completions, OpenAI Responses,
Anthropic Messages, Gemini) knows one request/response/stream format: where
the model is, whether a request streams, how usage maps to token buckets,
and what an error looks like in that protocol. Many providers share one
protocol (every OpenAI-compatible server speaks ``openai-chat``). Protocol
modules know no server and no transport.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

from ..usage import Tokens

_UNPARSED = object()
_NOT_JSON = object()


@dataclass(slots=True)
class SSEEvent:
    """One server-sent event: its ``event:`` name (None if absent) and its joined ``data:`` lines.

    :meth:`json` parses the data at most once, however many readers ask: the relay's
    malformed-event check, the usage reader and a stream translator share one parse.
    """

    event: str | None
    data: str
    _json: Any = field(default=_UNPARSED, repr=False, compare=False)

    def json(self) -> Any:
        """The data as parsed JSON, or None when it is not JSON (``[DONE]``, a cut or garbled event)."""
        value = self._json
        if value is _UNPARSED:
            try:
                value = orjson.loads(self.data)
            except orjson.JSONDecodeError:
                value = _NOT_JSON
            self._json = value
        return None if value is _NOT_JSON else value

    @property
    def is_json(self) -> bool:
        """Whether the data parses as JSON (``null`` included)."""
        self.json()
        return self._json is not _NOT_JSON


@dataclass(slots=True)
class UsageReport:
    """What a response (or a whole stream) said about itself."""

    tokens: Tokens | None = None  # None: the response carried no usage
    model: str | None = None  # the model the response names (may differ from the requested alias)
    response_id: str | None = None
    finish_reason: str | None = None
    tool_calls: int = 0
    complete: bool = False  # a stream saw its terminal event; a JSON body parsed whole
    error: str | None = None  # an error the response or stream itself reported
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. speculative-decoding counters


class StreamUsage(Protocol):
    """Accumulates usage from a stream's events, in order, on the side of a passthrough."""

    def feed(self, event: SSEEvent) -> None: ...

    def report(self) -> UsageReport: ...


class WireProtocol(Protocol):
    name: str  # "openai-chat", "openai-responses", "anthropic-messages", "gemini"

    def request_model(self, body: dict[str, Any], path: str) -> str | None:
        """The model a request asks for (Gemini puts it in the path)."""

    def is_stream(self, body: dict[str, Any], path: str) -> bool: ...

    def prepare_upstream(self, body: dict[str, Any], stream: bool) -> tuple[dict[str, Any], bool]:
        """The body to send upstream so that usage comes back, and whether the client did not ask for
        that usage (then the gateway leaves the usage-only part out of what the client sees)."""

    def usage(self, body: dict[str, Any]) -> UsageReport:
        """Usage of a whole (non-streaming) response body."""

    def stream_usage(self) -> StreamUsage: ...

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        """The protocol's own error object for an HTTP error response."""

    def error_event(self, message: str) -> bytes:
        """The protocol's own error event, to end a stream that failed mid-way (SSE bytes)."""
