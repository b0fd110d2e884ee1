"""The translation seam: the registry, the public names, and each translator's promise about dropped fields."""

from __future__ import annotations

import pytest

from inferaudit import translate
from inferaudit.translate import anthropic_request, openai_request


def test_public_api_is_pinned():
    assert sorted(translate.__all__) == sorted([
        "TRANSLATORS", "AnthropicToOpenAI", "Chain", "ChatToGemini", "ChatToResponses", "OpenAIToAnthropic", "ResponsesToChat",
        "StreamTranslator", "TranslationError", "Translator", "UnsupportedTranslation", "get"])


@pytest.mark.parametrize("source, target, path", [
    ("anthropic-messages", "openai-chat", "/v1/chat/completions"),
    ("openai-chat", "anthropic-messages", "/v1/messages"),
    ("openai-responses", "openai-chat", "/v1/chat/completions"),
    ("openai-chat", "openai-responses", "/v1/responses"),
])
def test_registry_finds_each_pair_with_its_upstream_path(source, target, path):
    translator = translate.get(source, target)
    assert (translator.source, translator.target, translator.upstream_path("m", False)) == (source, target, path)
    assert translate.TRANSLATORS[(source, target)] is translator
    first, second = translator.stream(), translator.stream()
    assert first is not second  # stream state is per request


def test_an_unknown_pair_names_the_pairs_there_are():
    with pytest.raises(translate.UnsupportedTranslation, match="anthropic-messages -> openai-chat") as caught:
        translate.get("gemini", "openai-chat")
    assert "'gemini'" in str(caught.value)
    with pytest.raises(LookupError):
        translate.get("openai-chat", "openai-chat")  # the same protocol is relayed, never translated


def test_no_dropped_field_reaches_the_openai_upstream(wire):
    request = wire.request_json("claude-code-request.json")
    request["top_k"] = 40
    present = [k for k in openai_request.DROPPED if k in request]
    assert present == ["thinking", "top_k", "context_management"]
    out = translate.get("anthropic-messages", "openai-chat").request(request)
    assert not set(openai_request.DROPPED) & set(out)


def test_no_dropped_field_reaches_the_anthropic_upstream(wire):
    request = wire.request_json("openai-chat-request.json")
    present = [k for k in anthropic_request.DROPPED if k in request]
    assert present == ["temperature", "top_p", "n", "presence_penalty", "logit_bias", "seed", "response_format",
                       "reasoning_effort", "stream_options"]
    out = translate.get("openai-chat", "anthropic-messages").request(request)
    assert not set(anthropic_request.DROPPED) & set(out) - {"metadata"}  # metadata is rebuilt from user
    assert out["metadata"] == {"user_id": "user-1234"}
