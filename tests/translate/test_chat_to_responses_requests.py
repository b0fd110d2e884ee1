"""Chat Completions requests as Responses requests: what maps, what is refused (the client's 400), what is dropped."""

from __future__ import annotations

import pytest

from inferaudit.translate import TranslationError, get
from inferaudit.translate.chat_to_responses_request import DROPPED

TO_RESPONSES = get("openai-chat", "openai-responses")
CLAUDE_ON_RESPONSES = get("anthropic-messages", "openai-responses")
WEATHER = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}


def sdk_request(wire) -> dict:
    """The recorded SDK request, less the fields Responses cannot express (each refused below)."""
    request = wire.request_json("openai-chat-request.json")
    for name in ("stop", "n", "presence_penalty", "logit_bias"):
        request.pop(name)
    return request


def test_the_sdk_request_maps_field_by_field(wire):
    out = TO_RESPONSES.request(sdk_request(wire))
    assert TO_RESPONSES.upstream_path("o3-pro", True) == "/v1/responses"
    assert out["model"] == "claude-haiku-4-5" and out["instructions"] == "You are a weather assistant."
    developer, user, paris, berlin, paris_out, berlin_out, follow_up = out["input"]
    assert developer == {"type": "message", "role": "developer", "content": "Answer in one sentence."}
    assert user["role"] == "user" and [p["type"] for p in user["content"]] == ["input_text", "input_image", "input_image"]
    assert user["content"][1]["image_url"].startswith("data:image/png;base64,") and user["content"][1]["detail"] == "low"
    assert user["content"][2] == {"type": "input_image", "detail": "auto",  # required by Responses; chat's default
                                  "image_url": "https://upload.wikimedia.org/wikipedia/commons/a/a7/Camponotus_flavomarginatus_ant.jpg"}
    assert paris == {"type": "function_call", "call_id": "call_2EgYitXdIMMykij9S5M0gRz6", "name": "get_weather",
                     "arguments": '{"city":"Paris"}'}
    assert berlin["call_id"] == "call_9xQw1aB7cD3eF5gH7iJ9kL1m"
    assert paris_out == {"type": "function_call_output", "call_id": "call_2EgYitXdIMMykij9S5M0gRz6", "output": "23°C, cloudy"}
    assert berlin_out["output"] == "-9°C, snowy"  # text parts joined
    assert follow_up == {"type": "message", "role": "user", "content": "And tomorrow?"}
    assert out["tools"] == [{"type": "function", "name": "get_weather", "description": "Weather in a city",
                             "parameters": WEATHER, "strict": True}]
    assert (out["tool_choice"], out["parallel_tool_calls"], out["max_output_tokens"]) == ("required", False, 1024)
    assert (out["temperature"], out["top_p"], out["user"], out["reasoning"]) == (1.3, 0.9, "user-1234", {"effort": "low"})
    assert out["text"] == {"format": {"type": "text"}} and out["stream"] is True and out["store"] is False
    assert not set(DROPPED) & set(out) and "seed" not in out and "stream_options" not in out


def test_assistant_text_refusal_and_later_system_messages_keep_their_place():
    out = TO_RESPONSES.request({"model": "m", "messages": [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "Hello!", "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "ok"},
        {"role": "system", "content": [{"type": "text", "text": "Now "}, {"type": "text", "text": "be terse."}]},
        {"role": "assistant", "content": None, "refusal": "I can't help with that."},
        {"role": "assistant", "content": [{"type": "text", "text": "a"}, {"type": "refusal", "refusal": "b"}]},
    ]})
    assert "instructions" not in out  # the first message is not a system message
    assert out["input"] == [
        {"type": "message", "role": "user", "content": "hi"},
        {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Hello!"}]},
        {"type": "function_call", "call_id": "call_1", "name": "f", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "call_1", "output": "ok"},
        {"type": "message", "role": "system", "content": "Now be terse."},
        {"type": "message", "role": "assistant", "content": [{"type": "refusal", "refusal": "I can't help with that."}]},
        {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "a"},
                                                             {"type": "refusal", "refusal": "b"}]},
    ]
    assert out["store"] is False and "stream" not in out


def test_options_map_to_their_responses_homes():
    out = TO_RESPONSES.request({
        "model": "o3-pro", "messages": [{"role": "developer", "content": "Be exact."}, {"role": "user", "content": [
            {"type": "text", "text": "read this"},
            {"type": "file", "file": {"filename": "a.pdf", "file_data": "data:application/pdf;base64,JVBERi0="}},
            {"type": "file", "file": {"file_id": "file-abc"}}]}],
        "max_tokens": 900, "reasoning_effort": "high", "verbosity": "low", "logprobs": True, "top_logprobs": 3,
        "response_format": {"type": "json_schema", "json_schema": {"name": "weather", "description": "d", "schema": WEATHER,
                                                                   "strict": True}},
        "tools": [{"type": "function", "function": {"name": "get_weather"}},
                  {"type": "function", "function": {"name": "lookup", "parameters": WEATHER, "strict": False}}],
        "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
        "safety_identifier": "u-hash", "prompt_cache_key": "k", "prompt_cache_retention": "24h",
        "metadata": {"team": "search"}, "service_tier": "flex", "store": True, "stream": False,
        "seed": 7, "prediction": {"type": "content", "content": "x"}, "presence_penalty": 0, "frequency_penalty": 0.0,
        "n": 1, "stop": None, "logit_bias": {}, "modalities": ["text"],
    })
    assert out["instructions"] == "Be exact." and out["input"][0]["content"][1:] == [
        {"type": "input_file", "file_data": "data:application/pdf;base64,JVBERi0=", "filename": "a.pdf"},
        {"type": "input_file", "file_id": "file-abc"}]
    assert out["max_output_tokens"] == 900 and out["reasoning"] == {"effort": "high"}
    assert out["text"] == {"format": {"type": "json_schema", "name": "weather", "description": "d", "schema": WEATHER,
                                      "strict": True}, "verbosity": "low"}
    assert (out["include"], out["top_logprobs"]) == (["message.output_text.logprobs"], 3)
    # strict is always sent: Responses defaults it to true, which a non-strict chat schema would fail
    assert [(t["name"], t["parameters"], t["strict"]) for t in out["tools"]] == [
        ("get_weather", {"type": "object", "properties": {}}, False), ("lookup", WEATHER, False)]
    assert out["tool_choice"] == {"type": "function", "name": "get_weather"}
    assert {k: out[k] for k in ("safety_identifier", "prompt_cache_key", "prompt_cache_retention", "metadata",
                                "service_tier", "store", "stream")} == {
        "safety_identifier": "u-hash", "prompt_cache_key": "k", "prompt_cache_retention": "24h",
        "metadata": {"team": "search"}, "service_tier": "flex", "store": True, "stream": False}
    assert not {"seed", "prediction", "presence_penalty", "frequency_penalty", "n", "stop", "logit_bias", "modalities",
                "max_tokens", "response_format", "reasoning_effort", "verbosity", "logprobs"} & set(out)


def test_max_completion_tokens_wins_and_allowed_tools_flatten():
    out = TO_RESPONSES.request({"model": "m", "messages": [{"role": "user", "content": "x"}], "max_tokens": 50,
                                "max_completion_tokens": 4000, "response_format": {"type": "json_object"},
                                "tools": [{"type": "function", "function": {"name": "f", "parameters": WEATHER}}],
                                "tool_choice": {"type": "allowed_tools", "allowed_tools": {
                                    "mode": "required", "tools": [{"type": "function", "function": {"name": "f"}}]}}})
    assert out["max_output_tokens"] == 4000 and out["text"] == {"format": {"type": "json_object"}}
    assert out["tool_choice"] == {"type": "allowed_tools", "mode": "required", "tools": [{"type": "function", "name": "f"}]}


@pytest.mark.parametrize("extra, field", [
    ({"n": 2}, "n"),
    ({"logit_bias": {"50256": -100}}, "logit_bias"),
    ({"stop": "\n\nUser:"}, "stop"),
    ({"stop": ["END"]}, "stop"),
    ({"presence_penalty": 0.5}, "presence_penalty"),
    ({"frequency_penalty": -1}, "frequency_penalty"),
    ({"audio": {"voice": "alloy", "format": "wav"}, "modalities": ["text", "audio"]}, "audio"),
    ({"modalities": ["text", "audio"]}, "modalities"),
    ({"web_search_options": {}}, "web_search_options"),
    ({"functions": [{"name": "f"}]}, "functions"),
    ({"function_call": "auto"}, "function_call"),
    ({"max_completion_tokens": 0}, "max_completion_tokens / max_tokens"),
    ({"max_tokens": "100"}, "max_completion_tokens / max_tokens"),
    ({"tools": [{"type": "custom", "custom": {"name": "grammar"}}]}, "tools[0]"),
    ({"tool_choice": {"type": "custom", "custom": {"name": "grammar"}}}, "tool_choice"),
    ({"response_format": {"type": "json_schema", "json_schema": {"schema": WEATHER}}}, "response_format.json_schema.name"),
    ({"frobnicate": True}, "frobnicate"),
])
def test_what_responses_cannot_express_is_refused_by_name(extra, field):
    with pytest.raises(TranslationError, match=f"^{field.replace('[', '.').replace(']', '.')}"):
        TO_RESPONSES.request({"model": "m", "messages": [{"role": "user", "content": "x"}], **extra})


@pytest.mark.parametrize("message, where", [
    ({"role": "user", "content": [{"type": "input_audio", "input_audio": {"data": "AA==", "format": "wav"}}]},
     "messages.0..content.0..type"),
    ({"role": "function", "name": "f", "content": "x"}, "messages.0..role"),
    ({"role": "assistant", "content": None, "audio": {"id": "audio_1"}}, "messages.0..audio"),
    ({"role": "assistant", "content": None, "function_call": {"name": "f", "arguments": "{}"}}, "messages.0..function_call"),
    ({"role": "assistant", "content": None, "tool_calls": [{"id": "c", "type": "custom", "custom": {"name": "g", "input": "x"}}]},
     "messages.0..tool_calls.0."),
    ({"role": "tool", "content": "orphan"}, "messages.0..tool_call_id"),
    ({"role": "system", "content": [{"type": "image_url", "image_url": {"url": "https://x/y.png"}}]}, "messages.0..content.0."),
])
def test_messages_responses_cannot_take_are_refused_with_their_place(message, where):
    with pytest.raises(TranslationError, match=f"^{where}"):
        TO_RESPONSES.request({"model": "m", "messages": [message]})


def test_claude_code_request_reaches_responses_through_the_chat_hub(wire):
    request = wire.request_json("claude-code-request.json")
    out = CLAUDE_ON_RESPONSES.request(request)
    assert CLAUDE_ON_RESPONSES.upstream_path("gpt-5.1-codex-max", True) == "/v1/responses"
    assert out["instructions"].startswith(request["system"][0]["text"][:40])  # the system blocks, joined
    kinds = [item["type"] for item in out["input"]]
    assert kinds.count("function_call") == 5 and kinds.count("function_call_output") == 5
    calls = {i["call_id"] for i in out["input"] if i["type"] == "function_call"}
    assert calls == {i["call_id"] for i in out["input"] if i["type"] == "function_call_output"}
    assert [t["name"] for t in out["tools"]] == ["Bash", "Glob", "Read"] and all(t["strict"] is False for t in out["tools"])
    assert (out["max_output_tokens"], out["stream"], out["store"]) == (32000, True, False)
    assert out["user"] == request["metadata"]["user_id"] and "stream_options" not in out


def test_a_limit_below_the_responses_minimum_is_raised_to_it():
    """Claude Code checks its quota at start with ``max_tokens: 1``; Responses refuses fewer than 16."""
    probe = {"model": "gpt-5.1-codex-max", "max_tokens": 1, "messages": [{"role": "user", "content": "quota"}]}
    assert CLAUDE_ON_RESPONSES.request(probe)["max_output_tokens"] == 16
    assert TO_RESPONSES.request({**probe, "max_tokens": 15})["max_output_tokens"] == 16
    assert TO_RESPONSES.request({**probe, "max_tokens": 17})["max_output_tokens"] == 17
