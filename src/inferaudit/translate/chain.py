"""Two translators in a row, through the chat hub: client -> ``openai-chat`` -> upstream.

Every protocol here has a translator to or from OpenAI Chat Completions, so
a pair without a translator of its own is the composition of two that meet
at chat: Claude Code (``anthropic-messages``) on Gemini is
``AnthropicToOpenAI`` then ``ChatToGemini``. What each leg drops, the chain
drops; what either refuses, the chain refuses.

- request: ``second.request(first.request(body))``;
- JSON answer: ``first.response(second.response(body, mid), client_request)``,
  where ``mid`` is the chat request the first leg made of the client's;
- stream: the second leg's output (chat SSE bytes) is parsed back into
  events and fed to the first leg's stream translator; ``close()`` and
  ``error()`` go through both legs in the same order, so a cut or failed
  upstream stream ends as the client protocol's own error event;
- error bodies: the upstream's error in the hub's shape, then in the client's.

The ledger is unaffected: usage is read from the upstream's own bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..providers.base import SSEEvent
from ..providers.sse import SSEParser
from .base import StreamTranslator, Translator
from .common import dumps

HUB = "openai-chat"


@dataclass(frozen=True)
class Chain:
    """``first`` (client protocol -> chat) followed by ``second`` (chat -> upstream protocol)."""

    first: Translator
    second: Translator

    def __post_init__(self) -> None:
        if self.first.target != HUB or self.second.source != HUB:
            raise ValueError(f"a chain meets at {HUB}: got {self.first.source} -> {self.first.target}, "
                             f"{self.second.source} -> {self.second.target}")

    @property
    def source(self) -> str:
        return self.first.source

    @property
    def target(self) -> str:
        return self.second.target

    def upstream_path(self, model: str, stream: bool) -> str:
        return self.second.upstream_path(model, stream)

    def request(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.second.request(self.first.request(body))

    def response(self, body: dict[str, Any], request: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.first.response(self.second.response(body, self._mid(request)), request)

    def stream(self, request: dict[str, Any] | None = None) -> ChainStream:
        return ChainStream(self.first.stream(request), self.second.stream(self._mid(request)))

    def error_body(self, status: int, body: bytes) -> dict[str, Any]:
        return self.first.error_body(status, dumps(self.second.error_body(status, body)).encode())

    def _mid(self, request: dict[str, Any] | None) -> dict[str, Any] | None:
        """The chat request the first leg makes of the client's: what the second leg's answer answers."""
        return self.first.request(request) if request is not None else None


class ChainStream:
    """The second leg's chat SSE, parsed back into events and fed to the first leg (a :class:`~.base.StreamTranslator`)."""

    def __init__(self, first: StreamTranslator, second: StreamTranslator) -> None:
        self._first, self._second = first, second
        self._parser = SSEParser()

    def feed(self, event: SSEEvent) -> bytes:
        return self._onward(self._second.feed(event))

    def close(self) -> bytes:
        return self._onward(self._second.close(), end=True) + self._first.close()

    def error(self, message: str) -> bytes:
        return self._onward(self._second.error(message), end=True) + self._first.error(message)

    def _onward(self, hub_bytes: bytes, end: bool = False) -> bytes:
        events = self._parser.feed(hub_bytes) if hub_bytes else []
        if end:
            events += self._parser.flush()
        return b"".join(self._first.feed(event) for event in events)
