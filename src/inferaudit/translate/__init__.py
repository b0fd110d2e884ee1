"""Protocol translation: a client speaking one wire protocol, served by an upstream speaking another.

``get(source, target)`` finds the :class:`Translator` for a (client protocol,
upstream protocol) pair; the gateway uses it only when the two differ (the
same protocol is relayed byte for byte). Usage for the ledger is always read
from the upstream's own bytes by the upstream's wire protocol, so a
translation can change what a client sees, never what is recorded.

Direct pairs: ``anthropic-messages`` -> ``openai-chat`` (Claude Code on vLLM,
llama.cpp, Ollama, any OpenAI-compatible server), ``openai-chat`` ->
``anthropic-messages``, ``openai-responses`` -> ``openai-chat`` (Codex CLI or
the SDK's ``responses`` on a chat-only server), ``openai-chat`` ->
``gemini``, and ``openai-chat`` -> ``openai-responses`` (a chat app on a
model served only on ``/v1/responses``). Every other pair that can meet at
``openai-chat`` is a :class:`Chain` of two of them (``anthropic-messages``
-> ``gemini``, ``openai-responses`` -> ``gemini``, ``openai-responses`` ->
``anthropic-messages``, ``anthropic-messages`` -> ``openai-responses``).
Each request module's docstring lists what maps, what is refused and what
is dropped. A new pair is one class in :mod:`.pairs`
and one entry in ``DIRECT``; the chains through it follow.
"""

from __future__ import annotations

from .base import StreamTranslator, TranslationError, Translator, UnsupportedTranslation
from .chain import HUB, Chain
from .pairs import (
    AnthropicToOpenAI,
    ChatToGemini,
    ChatToResponses,
    OpenAIToAnthropic,
    ResponsesToChat,
)

__all__ = [
    "TRANSLATORS",
    "AnthropicToOpenAI",
    "Chain",
    "ChatToGemini",
    "ChatToResponses",
    "OpenAIToAnthropic",
    "ResponsesToChat",
    "StreamTranslator",
    "TranslationError",
    "Translator",
    "UnsupportedTranslation",
    "get",
]

DIRECT: tuple[Translator, ...] = (
    AnthropicToOpenAI(), OpenAIToAnthropic(), ResponsesToChat(), ChatToGemini(), ChatToResponses(),
)


def _registry(direct: tuple[Translator, ...]) -> dict[tuple[str, str], Translator]:
    """The direct pairs, and a chain through the chat hub for every other pair two of them can make."""
    found: dict[tuple[str, str], Translator] = {(t.source, t.target): t for t in direct}
    into_hub = [t for t in direct if t.target == HUB]
    out_of_hub = [t for t in direct if t.source == HUB]
    for first in into_hub:
        for second in out_of_hub:
            pair = (first.source, second.target)
            if first.source != second.target and pair not in found:
                found[pair] = Chain(first, second)
    return found


TRANSLATORS: dict[tuple[str, str], Translator] = _registry(DIRECT)


def get(source: str, target: str) -> Translator:
    """The translator from client protocol ``source`` to upstream protocol ``target``."""
    try:
        return TRANSLATORS[(source, target)]
    except KeyError:
        known = ", ".join(f"{s} -> {t}" for s, t in sorted(TRANSLATORS))
        raise UnsupportedTranslation(f"no translation from {source!r} clients to {target!r} upstreams; known: {known}") from None
