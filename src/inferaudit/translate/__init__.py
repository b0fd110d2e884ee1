"""Protocol translation: a client speaking one wire protocol, served by an upstream speaking another.

``get(source, target)`` finds the :class:`Translator` for a (client protocol,
upstream protocol) pair; the gateway uses it only when the two differ (the
same protocol is relayed byte for byte). Usage for the ledger is always read
from the upstream's own bytes by the upstream's wire protocol, so a
translation can change what a client sees, never what is recorded.

Pairs: ``anthropic-messages`` -> ``openai-chat`` (Claude Code on vLLM,
llama.cpp, Ollama, any OpenAI-compatible server), ``openai-chat`` ->
``anthropic-messages``, and ``openai-responses`` -> ``openai-chat`` (Codex
CLI or the SDK's ``responses`` on a chat-only server). Each request module's docstring lists what maps and
what is dropped. A new pair is one class in :mod:`.pairs` and one entry below.
"""

from __future__ import annotations

from .base import StreamTranslator, TranslationError, Translator, UnsupportedTranslation
from .pairs import AnthropicToOpenAI, OpenAIToAnthropic, ResponsesToChat

__all__ = [
    "TRANSLATORS",
    "AnthropicToOpenAI",
    "OpenAIToAnthropic",
    "ResponsesToChat",
    "StreamTranslator",
    "TranslationError",
    "Translator",
    "UnsupportedTranslation",
    "get",
]

TRANSLATORS: dict[tuple[str, str], Translator] = {
    (t.source, t.target): t for t in (AnthropicToOpenAI(), OpenAIToAnthropic(), ResponsesToChat())
}


def get(source: str, target: str) -> Translator:
    """The translator from client protocol ``source`` to upstream protocol ``target``."""
    try:
        return TRANSLATORS[(source, target)]
    except KeyError:
        known = ", ".join(f"{s} -> {t}" for s, t in sorted(TRANSLATORS))
        raise UnsupportedTranslation(f"no translation from {source!r} clients to {target!r} upstreams; known: {known}") from None
