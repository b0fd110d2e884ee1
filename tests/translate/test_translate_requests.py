"""Requests both ways: Claude Code's real turns to Chat Completions, an OpenAI client's request to Messages."""

from __future__ import annotations

import json

import pytest

from inferaudit.translate import get

TO_OPENAI = get("anthropic-messages", "openai-chat")
TO_ANTHROPIC = get("openai-chat", "anthropic-messages")
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="


def sent_by_sdk(client, call, body: dict) -> dict:
    """What the official SDK sends when ``body`` is passed as keyword arguments.

    The SDKs' ``create`` methods take only the parameters their API has, so
    a top-level field the upstream would not know fails here with TypeError.
    """
    httpx = pytest.importorskip("httpx2")
    seen = {}

    def handler(request):
        seen["body"] = json.loads(request.content)
        return httpx.Response(500, json={"error": {"message": "captured"}})

    sdk = client(http_client=httpx.Client(transport=httpx.MockTransport(handler)), max_retries=0)
    with pytest.raises(Exception, match="captured"):
        call(sdk)(**body)
    return seen["body"]


def test_claude_code_turns_become_chat_messages_with_tool_calls_and_tool_messages(wire):
    request = wire.request_json("claude-code-request.json")
    out = TO_OPENAI.request(request)
    roles = [m["role"] for m in out["messages"]]
    assert roles == ["system", "user", "assistant", "tool", "tool", "tool", "assistant", "tool", "tool"]
    assert out["messages"][0]["content"] == (
        "You are Claude Code, Anthropic's official CLI for Claude.\n\nYou are a file search specialist for Claude Code. "
        "You excel at thoroughly navigating and exploring codebases.\n\nWorking directory: /home/USER/projects/spotter-worktrees/spotter-fum"
    )
    assert out["messages"][1] == {"role": "user", "content": request["messages"][0]["content"]}
    first = out["messages"][2]
    assert first["content"] == "I'll search for these files and analyze their implementations."
    assert [c["id"] for c in first["tool_calls"]] == [
        "toolu_013zUH5CLXBdHVFNNQhvjWMi", "toolu_01BDRASxkW3jnq61FG1dvvR8", "toolu_011D3Lwfw7enu1qCySHgjdmZ"]
    assert [c["function"]["name"] for c in first["tool_calls"]] == ["Read", "Read", "Glob"]
    assert json.loads(first["tool_calls"][2]["function"]["arguments"]) == {"pattern": "test/support/**/*.ex"}
    assert all(isinstance(c["function"]["arguments"], str) and c["type"] == "function" for c in first["tool_calls"])
    results = [b for b in request["messages"][2]["content"]]
    assert out["messages"][3:6] == [
        {"role": "tool", "tool_call_id": r["tool_use_id"], "content": r["content"]} for r in results]
    errors = out["messages"][7:9]
    assert [m["tool_call_id"] for m in errors] == ["toolu_01BpA1vfwwr5xWYsSu8M8H3T", "toolu_01WVEHjxPRAsFRpWW8afNuA5"]
    assert errors[0]["content"] == "EISDIR: illegal operation on a directory, read"  # is_error dropped, its text kept


def test_claude_code_request_options_and_what_is_dropped(wire):
    request = wire.request_json("claude-code-request.json")
    out = TO_OPENAI.request(request)
    assert [t["function"]["name"] for t in out["tools"]] == ["Bash", "Glob", "Read"]  # web_search is a server tool
    assert out["tools"][2] == {"type": "function", "function": {
        "name": "Read", "description": "Reads a file from the local filesystem.", "parameters": request["tools"][2]["input_schema"]}}
    assert (out["max_tokens"], out["temperature"], out["stream"]) == (32000, 1, True)
    assert out["stream_options"] == {"include_usage": True}
    assert out["user"] == request["metadata"]["user_id"]
    assert set(out) == {"model", "messages", "max_tokens", "temperature", "stream", "stream_options", "user", "tools"}
    assert "cache_control" not in json.dumps(out)


def test_translated_openai_request_is_what_the_openai_sdk_sends(wire):
    openai = pytest.importorskip("openai")
    out = TO_OPENAI.request(wire.request_json("claude-code-request.json"))
    client = lambda **kw: openai.OpenAI(api_key="k", base_url="http://upstream.test/v1", **kw)
    assert sent_by_sdk(client, lambda sdk: sdk.chat.completions.create, out) == out


def test_user_images_tool_result_images_and_choices():
    request = {"model": "m", "max_tokens": 10, "stream": False, "stop_sequences": ["END"], "top_p": 0.5, "top_k": 40,
               "tools": [{"name": "screenshot", "input_schema": {"type": "object", "properties": {}}}],
               "tool_choice": {"type": "any", "disable_parallel_tool_use": True},
               "messages": [
                   {"role": "user", "content": [
                       {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
                       {"type": "image", "source": {"type": "url", "url": "https://example.com/a.jpg"}},
                       {"type": "text", "text": "What changed?", "cache_control": {"type": "ephemeral"}}]},
                   {"role": "assistant", "content": [
                       {"type": "thinking", "thinking": "look", "signature": "sig"},
                       {"type": "tool_use", "id": "toolu_1", "name": "screenshot", "input": {}}]},
                   {"role": "user", "content": [
                       {"type": "tool_result", "tool_use_id": "toolu_1", "content": [
                           {"type": "text", "text": "captured"},
                           {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg", "data": PNG}}]},
                       {"type": "text", "text": "compare"}]}]}
    out = TO_OPENAI.request(request)
    assert out["messages"][0] == {"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "data:image/png;base64," + PNG}},
        {"type": "image_url", "image_url": {"url": "https://example.com/a.jpg"}},
        {"type": "text", "text": "What changed?"}]}
    assert out["messages"][1] == {"role": "assistant", "content": None, "tool_calls": [
        {"id": "toolu_1", "type": "function", "function": {"name": "screenshot", "arguments": "{}"}}]}
    # the tool message holds the text; its image follows in the user turn, before the user's own text
    assert out["messages"][2] == {"role": "tool", "tool_call_id": "toolu_1", "content": "captured"}
    assert out["messages"][3] == {"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64," + PNG}}, {"type": "text", "text": "compare"}]}
    assert (out["tool_choice"], out["parallel_tool_calls"], out["stop"], out["top_p"], out["stream"]) == ("required", False, ["END"], 0.5, False)
    assert "top_k" not in out and "stream_options" not in out


@pytest.mark.parametrize("anthropic, openai", [
    ({"type": "auto"}, "auto"),
    ({"type": "any"}, "required"),
    ({"type": "none"}, "none"),
    ({"type": "tool", "name": "get_weather"}, {"type": "function", "function": {"name": "get_weather"}}),
])
def test_tool_choice_both_ways(anthropic, openai):
    tool = {"name": "get_weather", "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}
    up = TO_OPENAI.request({"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}],
                            "tools": [tool], "tool_choice": anthropic})
    assert up["tool_choice"] == openai
    down = TO_ANTHROPIC.request({"model": "m", "messages": [{"role": "user", "content": "hi"}],
                                 "tools": up["tools"], "tool_choice": openai})
    assert down["tool_choice"] == anthropic and down["tools"] == [tool]


def test_openai_request_becomes_messages_with_system_lifted_and_tool_results_merged(wire):
    out = TO_ANTHROPIC.request(wire.request_json("openai-chat-request.json"))
    assert out["system"] == [{"type": "text", "text": "You are a weather assistant."}, {"type": "text", "text": "Answer in one sentence."}]
    assert [m["role"] for m in out["messages"]] == ["user", "assistant", "user"]
    assert out["messages"][0]["content"][1] == {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}}
    assert out["messages"][0]["content"][2]["source"]["type"] == "url"
    assert out["messages"][1]["content"] == [
        {"type": "tool_use", "id": "call_2EgYitXdIMMykij9S5M0gRz6", "name": "get_weather", "input": {"city": "Paris"}},
        {"type": "tool_use", "id": "call_9xQw1aB7cD3eF5gH7iJ9kL1m", "name": "get_weather", "input": {"city": "Berlin"}}]
    # both tool results first, then the user's next words, in one user turn as Messages requires
    assert out["messages"][2]["content"] == [
        {"type": "tool_result", "tool_use_id": "call_2EgYitXdIMMykij9S5M0gRz6", "content": "23°C, cloudy"},
        {"type": "tool_result", "tool_use_id": "call_9xQw1aB7cD3eF5gH7iJ9kL1m", "content": [{"type": "text", "text": "-9°C, snowy"}]},
        {"type": "text", "text": "And tomorrow?"}]
    assert out["tool_choice"] == {"type": "any", "disable_parallel_tool_use": True}
    assert out["tools"][0]["input_schema"]["required"] == ["city"] and out["tools"][0]["strict"] is True
    assert (out["max_tokens"], out["stop_sequences"], out["metadata"], out["stream"]) == (
        1024, ["\n\nUser:"], {"user_id": "user-1234"}, True)
    # sampling parameters, which newer Claude models refuse, and what Messages lacks are left out
    assert set(out) == {"model", "messages", "max_tokens", "system", "stop_sequences", "metadata", "tools", "tool_choice", "stream"}


def test_sampling_parameters_kept_on_request_for_older_claude_models(wire):
    from inferaudit.translate import OpenAIToAnthropic

    out = OpenAIToAnthropic(sampling=True).request(wire.request_json("openai-chat-request.json"))
    assert (out["temperature"], out["top_p"]) == (1.0, 0.9)  # 1.3 clamped to Anthropic's 0..1


def test_translated_anthropic_request_is_what_the_anthropic_sdk_sends(wire):
    anthropic = pytest.importorskip("anthropic")
    out = TO_ANTHROPIC.request(wire.request_json("openai-chat-request.json"))
    client = lambda **kw: anthropic.Anthropic(api_key="k", base_url="http://upstream.test", **kw)
    assert sent_by_sdk(client, lambda sdk: sdk.messages.create, out) == out


def test_messages_needs_max_tokens_so_a_default_fills_it_and_a_single_system_stays_a_string():
    out = TO_ANTHROPIC.request({"model": "m", "messages": [{"role": "system", "content": "Be brief."},
                                                           {"role": "user", "content": "hi"},
                                                           {"role": "assistant", "content": ""},
                                                           {"role": "user", "content": "again"}]})
    assert out["max_tokens"] == 4096
    assert out["system"] == "Be brief."
    # the empty assistant turn (which Messages rejects) is gone; the two user turns are one
    assert out["messages"] == [{"role": "user", "content": [{"type": "text", "text": "hi"}, {"type": "text", "text": "again"}]}]
    assert "stream" not in out and "tool_choice" not in out


def test_max_tokens_field_for_openai_reasoning_models():
    from inferaudit.translate import AnthropicToOpenAI

    out = AnthropicToOpenAI(max_tokens_field="max_completion_tokens").request(
        {"model": "m", "max_tokens": 77, "messages": [{"role": "user", "content": "hi"}]})
    assert out["max_completion_tokens"] == 77 and "max_tokens" not in out
