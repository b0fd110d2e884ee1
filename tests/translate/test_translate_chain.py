"""Pairs through the chat hub: the registry builds every chain two translators can make, and a chain behaves as one translator."""

from __future__ import annotations

import json

import pytest

from inferaudit import translate
from inferaudit.providers import PROTOCOLS
from inferaudit.translate import AnthropicToOpenAI, Chain, ChatToGemini, OpenAIToAnthropic, ResponsesToChat

CODEX_ON_CLAUDE = translate.get("openai-responses", "anthropic-messages")


def test_the_registry_holds_the_direct_pairs_and_every_chain_through_chat():
    assert {pair: type(t).__name__ for pair, t in translate.TRANSLATORS.items()} == {
        ("anthropic-messages", "openai-chat"): "AnthropicToOpenAI",
        ("openai-chat", "anthropic-messages"): "OpenAIToAnthropic",
        ("openai-responses", "openai-chat"): "ResponsesToChat",
        ("openai-chat", "gemini"): "ChatToGemini",
        ("openai-chat", "openai-responses"): "ChatToResponses",
        ("anthropic-messages", "gemini"): "Chain",
        ("anthropic-messages", "openai-responses"): "Chain",
        ("openai-responses", "anthropic-messages"): "Chain",
        ("openai-responses", "gemini"): "Chain",
    }
    chain = translate.get("anthropic-messages", "gemini")
    assert (type(chain.first), type(chain.second)) == (AnthropicToOpenAI, ChatToGemini)
    assert (chain.source, chain.target) == ("anthropic-messages", "gemini")
    assert ("anthropic-messages", "anthropic-messages") not in translate.TRANSLATORS  # same protocol: relayed


def test_an_unknown_pair_names_every_pair_there_is():
    with pytest.raises(translate.UnsupportedTranslation) as caught:
        translate.get("gemini", "openai-chat")  # no translator reads Gemini requests
    assert "'gemini' clients" in str(caught.value)
    for source, target in translate.TRANSLATORS:
        assert f"{source} -> {target}" in str(caught.value)
    with pytest.raises(translate.UnsupportedTranslation):
        translate.get("openai-responses", "openai-responses")  # the same protocol is relayed, never chained


@pytest.mark.parametrize("model, stream, path", [
    ("gemini-2.5-flash", False, "/v1beta/models/gemini-2.5-flash:generateContent"),
    ("gemini-2.5-flash", True, "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"),
    ("models/gemini-3-pro-preview", False, "/v1beta/models/gemini-3-pro-preview:generateContent"),
])
def test_the_gemini_path_names_the_deployments_model_and_the_stream(model, stream, path):
    assert translate.get("openai-chat", "gemini").upstream_path(model, stream) == path
    assert translate.get("anthropic-messages", "gemini").upstream_path(model, stream) == path
    assert ChatToGemini(api_version="v1alpha").upstream_path(model, stream) == path.replace("v1beta", "v1alpha")
    assert translate.get("openai-responses", "anthropic-messages").upstream_path(model, stream) == "/v1/messages"


def test_a_chain_must_meet_at_chat():
    with pytest.raises(ValueError, match="meets at openai-chat"):
        Chain(OpenAIToAnthropic(), ChatToGemini())
    assert Chain(ResponsesToChat(), OpenAIToAnthropic()) == CODEX_ON_CLAUDE  # frozen, comparable, one per route


def test_codex_request_on_claude(wire):
    request = {"model": "claude-haiku-4-5", "instructions": "Be brief.", "input": "weather?", "stream": True,
               "max_output_tokens": 300, "tools": [{"type": "function", "name": "get_weather",
                                                     "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}]}
    out = CODEX_ON_CLAUDE.request(request)
    assert (out["system"], out["max_tokens"], out["stream"]) == ("Be brief.", 300, True)
    assert out["messages"] == [{"role": "user", "content": "weather?"}] and out["tools"][0]["name"] == "get_weather"


def test_claude_stream_reaches_the_responses_sdk_through_the_chain(wire, openai_sdk, chunk_size):
    upstream = wire.recorded_bytes("anthropic-stream-haiku-tool-use.sse")
    client_bytes = wire.translate_stream(CODEX_ON_CLAUDE.stream({"model": "claude", "input": "weather?", "stream": True}),
                                         upstream, chunk_size)
    with openai_sdk(client_bytes).responses.stream(model="claude", input="weather?") as stream:
        response = stream.get_final_response()
    (call,) = [item for item in response.output if item.type == "function_call"]
    assert call.call_id == "toolu_01KFbKqPYSuAKujiL6mTfzYA" and json.loads(call.arguments)["elements"][0]["temperature"] == 58
    assert (response.usage.input_tokens, response.usage.output_tokens) == (849, 47)
    expected = PROTOCOLS["anthropic-messages"].stream_usage()
    for event in wire.events(upstream):
        expected.feed(event)
    seen = PROTOCOLS["openai-responses"].stream_usage()
    for event in wire.events(client_bytes):
        seen.feed(event)
    assert seen.report().tokens == expected.report().tokens


def test_claude_overloaded_mid_stream_is_a_responses_error(wire, openai_sdk):
    openai = pytest.importorskip("openai")
    client_bytes = wire.translate_stream(CODEX_ON_CLAUDE.stream({"model": "claude", "input": "hi", "stream": True}),
                                         wire.recorded_bytes("anthropic-stream-overloaded.sse"))
    assert b"response.completed" not in client_bytes
    with pytest.raises(openai.APIError, match="Overloaded"), openai_sdk(client_bytes).responses.stream(model="claude", input="hi") as s:
        s.get_final_response()


def test_claude_message_as_a_response_object_and_claude_errors_as_responses_errors(wire):
    body = CODEX_ON_CLAUDE.response(wire.recorded_json("anthropic-message-haiku-tool-use.json"), {"model": "claude", "input": "x"})
    assert [item["type"] for item in body["output"]] == ["function_call"] and body["output"][0]["name"] == "json"
    assert body["usage"]["input_tokens"] == 1151 and body["usage"]["output_tokens"] == 87
    error = CODEX_ON_CLAUDE.error_body(529, b'{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}')
    assert error == PROTOCOLS["openai-responses"].error_body(529, "Overloaded")
