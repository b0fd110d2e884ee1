"""Wire protocols the gateway speaks, found by name or by ingress path.

Each protocol is one module implementing :class:`~.base.WireProtocol`; many
providers share one (every OpenAI-compatible server speaks ``openai-chat``).
A new protocol is one module and one line in each registry below.
"""

from __future__ import annotations

import re

from .anthropic_messages import AnthropicMessages
from .base import SSEEvent, StreamUsage, UsageReport, WireProtocol
from .gemini import PATH as GEMINI_PATH
from .gemini import Gemini
from .openai_chat import OpenAIChat
from .openai_responses import OpenAIResponses
from .sse import SSEParser

__all__ = [
    "PROTOCOLS",
    "ROUTES",
    "for_path",
    "SSEEvent",
    "SSEParser",
    "StreamUsage",
    "UsageReport",
    "WireProtocol",
]

PROTOCOLS: dict[str, WireProtocol] = {
    protocol.name: protocol for protocol in (OpenAIChat(), OpenAIResponses(), AnthropicMessages(), Gemini())
}

# Ingress path pattern -> protocol name. Patterns match the path only; a query string is ignored.
ROUTES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^/v1/chat/completions/?$"), "openai-chat"),
    (re.compile(r"^/v1/responses/?$"), "openai-responses"),
    (re.compile(r"^/v1/messages/?$"), "anthropic-messages"),
    (GEMINI_PATH, "gemini"),
)


def for_path(path: str) -> WireProtocol | None:
    """The protocol that serves an ingress ``path`` (query string allowed), or None."""
    bare = path.split("?", 1)[0]
    for pattern, name in ROUTES:
        if pattern.match(bare):
            return PROTOCOLS[name]
    return None
