"""The translation seam: one client protocol in front of a different upstream protocol.

The gateway normally relays bytes untouched (same protocol in and out). When
a route sends, say, Claude Code (``anthropic-messages``) to a vLLM server
(``openai-chat``), a :class:`Translator` rewrites the request on the way up
and the answer on the way down. Usage for the ledger is still read from the
*upstream's* bytes by the upstream's own wire protocol, so translation can
never change what is recorded; it only decides what the client sees.
"""

from __future__ import annotations

from typing import Any, Protocol

from ..providers.base import SSEEvent


class TranslationError(ValueError):
    """A request the upstream's protocol cannot express (the gateway answers the client's 400 and calls
    no upstream), or an upstream answer that cannot be put in the client's protocol (502)."""


class UnsupportedTranslation(LookupError):
    """No translator for this (client protocol, upstream protocol) pair."""


class StreamTranslator(Protocol):
    """Rewrites one upstream stream, event by event, into the client's protocol (one per request)."""

    def feed(self, event: SSEEvent) -> bytes:
        """Client SSE bytes for one upstream event (often ``b""``)."""

    def close(self) -> bytes:
        """At the end of the upstream stream: whatever the client still needs to see a complete answer.

        A stream that ended before it said how it finished gets the client
        protocol's error event instead, so the client does not mistake a cut
        answer for a whole one.
        """

    def error(self, message: str) -> bytes:
        """The client protocol's error event, for a failure mid-stream; nothing is sent after it."""


class Translator(Protocol):
    source: str  # the client's protocol, e.g. "anthropic-messages"
    target: str  # the upstream's protocol, e.g. "openai-chat"

    def upstream_path(self, model: str, stream: bool) -> str:
        """Where the target protocol's endpoint lives for this deployment's ``model`` and stream flag, e.g.
        ``/v1/chat/completions``, or ``/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse``."""

    def request(self, body: dict[str, Any]) -> dict[str, Any]:
        """The client's request as the upstream's (stream flag kept; an openai-chat stream asks for usage)."""

    def response(self, body: dict[str, Any], request: dict[str, Any] | None = None) -> dict[str, Any]:
        """The upstream's whole JSON answer as the client's; ``request`` is the client's original body."""

    def stream(self, request: dict[str, Any] | None = None) -> StreamTranslator:
        """A fresh stream translator for one request (``request``: the client's original body)."""

    def error_body(self, status: int, body: bytes) -> dict[str, Any]:
        """An upstream HTTP error body (any shape, even not JSON) as the client protocol's error object."""
