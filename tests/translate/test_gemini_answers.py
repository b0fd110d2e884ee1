"""Whole Gemini answers and error bodies, read back by the client's official SDK: usage exactly converted, tool calls, finish reasons."""

from __future__ import annotations

import copy
import json

import pytest

from inferaudit.providers import PROTOCOLS
from inferaudit.translate import TranslationError, get
from inferaudit.translate.gemini_answer import signature_of
from inferaudit.usage import Tokens

TO_GEMINI = get("openai-chat", "gemini")
CLAUDE_ON_GEMINI = get("anthropic-messages", "gemini")
ASK = {"model": "gemini-alias", "messages": [{"role": "user", "content": "weather?"}]}


def as_bytes(obj: dict) -> bytes:
    return json.dumps(obj).encode()


def completion_of(openai_sdk, body: dict):
    return openai_sdk(as_bytes(body), content_type="application/json").chat.completions.create(**ASK)


def test_gemini_3_tool_call_reaches_the_openai_sdk_with_thoughts_counted_as_completion(wire, openai_sdk):
    upstream = wire.recorded_json("gemini-3-pro-tool-call.json")
    completion = completion_of(openai_sdk, TO_GEMINI.response(upstream, ASK))
    (choice,) = completion.choices
    (call,) = choice.message.tool_calls
    assert (call.type, call.function.name, json.loads(call.function.arguments)) == ("function", "weather", {"location": "San Francisco"})
    assert signature_of(call.id) == upstream["candidates"][0]["content"]["parts"][0]["thoughtSignature"]
    assert (choice.finish_reason, choice.message.content) == ("tool_calls", None)
    assert (completion.id, completion.model) == ("chatcmpl-m36LaZGyCLz1xs0PtNSB-QU", "gemini-3-pro-preview")
    usage = completion.usage
    # candidates 15 + thoughts 893: OpenAI counts reasoning inside completion_tokens
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (29, 908, 937)
    assert usage.total_tokens == upstream["usageMetadata"]["totalTokenCount"]
    assert (usage.completion_tokens_details.reasoning_tokens, usage.prompt_tokens_details.cached_tokens) == (893, 0)


def test_cached_and_tool_use_prompt_tokens_convert_exactly(wire, openai_sdk):
    upstream = wire.recorded_json("gemini-2.5-flash-cached-tool-use.json")
    completion = completion_of(openai_sdk, TO_GEMINI.response(upstream, ASK))
    assert (completion.choices[0].message.content, completion.choices[0].finish_reason) == ("42", "stop")
    usage = completion.usage
    # prompt 19 (3 of them cached) + tool-use prompt 63; candidates 4 + thoughts 56
    assert (usage.prompt_tokens, usage.prompt_tokens_details.cached_tokens) == (82, 3)
    assert (usage.completion_tokens, usage.completion_tokens_details.reasoning_tokens, usage.total_tokens) == (60, 56, 142)


@pytest.mark.parametrize("name", ["gemini-2.5-flash-cached-tool-use.json", "gemini-3-pro-tool-call.json"])
def test_the_client_view_books_the_same_buckets_as_the_upstream(wire, name):
    """Read by the ledger's own chat reader, the translated answer gives the Gemini reader's exact buckets."""
    upstream = wire.recorded_json(name)
    seen = PROTOCOLS["openai-chat"].usage(TO_GEMINI.response(upstream, ASK))
    expected = PROTOCOLS["gemini"].usage(upstream)
    assert seen.tokens == expected.tokens and seen.tool_calls == expected.tool_calls
    if name.startswith("gemini-2.5"):
        assert seen.tokens == Tokens(input=79, cache_read=3, output=60, reasoning=56)


def test_thought_parts_stay_out_of_content(openai_sdk):
    upstream = {"candidates": [{"content": {"role": "model", "parts": [
        {"text": "**Counting letters**\n\nI count the r's.", "thought": True},
        {"text": "There are 3.", "thoughtSignature": "Eo0HCooHAb4="}]}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": {"promptTokenCount": 9, "candidatesTokenCount": 5, "thoughtsTokenCount": 120, "totalTokenCount": 134},
        "modelVersion": "gemini-2.5-pro", "responseId": "abc"}
    body = TO_GEMINI.response(upstream, ASK)
    message = body["choices"][0]["message"]
    assert (message["content"], message["reasoning_content"]) == ("There are 3.", "**Counting letters**\n\nI count the r's.")
    assert completion_of(openai_sdk, body).choices[0].message.content == "There are 3."


@pytest.mark.parametrize("reason, calls, finish", [
    ("STOP", False, "stop"), ("STOP", True, "tool_calls"), ("MAX_TOKENS", False, "length"),
    ("SAFETY", False, "content_filter"), ("RECITATION", False, "content_filter"), ("PROHIBITED_CONTENT", False, "content_filter"),
    ("MALFORMED_FUNCTION_CALL", False, "stop"), ("OTHER", False, "stop"),
])
def test_finish_reasons(wire, reason, calls, finish):
    upstream = copy.deepcopy(wire.recorded_json("gemini-3-pro-tool-call.json" if calls else "gemini-2.5-flash-cached-tool-use.json"))
    upstream["candidates"][0]["finishReason"] = reason
    assert TO_GEMINI.response(upstream, ASK)["choices"][0]["finish_reason"] == finish


def test_several_candidates_are_several_choices(wire, openai_sdk):
    upstream = copy.deepcopy(wire.recorded_json("gemini-2.5-flash-cached-tool-use.json"))
    second = copy.deepcopy(upstream["candidates"][0])
    second.update(index=1, content={"role": "model", "parts": [{"text": "forty-two"}]}, finishReason="MAX_TOKENS")
    upstream["candidates"].append(second)
    completion = completion_of(openai_sdk, TO_GEMINI.response(upstream, {**ASK, "n": 2}))
    assert [(c.index, c.message.content, c.finish_reason) for c in completion.choices] == [(0, "42", "stop"), (1, "forty-two", "length")]


def test_a_blocked_prompt_is_an_empty_content_filter_choice(openai_sdk):
    upstream = {"promptFeedback": {"blockReason": "SAFETY"}, "usageMetadata": {"promptTokenCount": 7, "totalTokenCount": 7},
                "modelVersion": "gemini-2.5-flash", "responseId": "blk"}
    completion = completion_of(openai_sdk, TO_GEMINI.response(upstream, ASK))
    assert (completion.choices[0].finish_reason, completion.choices[0].message.content) == ("content_filter", "")
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (7, 0)


def test_an_error_object_with_status_200_is_not_an_answer(wire):
    with pytest.raises(TranslationError, match="You exceeded your current quota"):
        TO_GEMINI.response(wire.recorded_json("gemini-error-429-retry-info.json"), ASK)


def test_gemini_error_body_reaches_each_client_sdk_as_its_own_error(wire, openai_sdk, anthropic_sdk):
    openai = pytest.importorskip("openai")
    anthropic = pytest.importorskip("anthropic")
    upstream = wire.recorded_bytes("gemini-error-429-retry-info.json")
    as_openai = TO_GEMINI.error_body(429, upstream)
    assert as_openai["error"]["message"] == "You exceeded your current quota, please check your plan."
    with pytest.raises(openai.RateLimitError, match="exceeded your current quota"):
        openai_sdk(as_bytes(as_openai), status=429, content_type="application/json").chat.completions.create(**ASK)
    as_anthropic = CLAUDE_ON_GEMINI.error_body(429, upstream)
    assert as_anthropic["type"] == "error" and as_anthropic["error"]["message"] == as_openai["error"]["message"]
    with pytest.raises(anthropic.RateLimitError, match="exceeded your current quota"):
        anthropic_sdk(as_bytes(as_anthropic), status=429, content_type="application/json").messages.create(
            model="m", max_tokens=10, messages=[{"role": "user", "content": "x"}])
    assert TO_GEMINI.error_body(503, b"<html>upstream proxy</html>")["error"]["message"] == "<html>upstream proxy</html>"


# -- Claude Code on Gemini: through the chat hub --------------------------------------------------


def test_gemini_tool_call_reaches_the_anthropic_sdk_through_the_chain(wire, anthropic_sdk):
    upstream = wire.recorded_json("gemini-3-pro-tool-call.json")
    request = {"model": "gemini-alias", "max_tokens": 100, "messages": [{"role": "user", "content": "weather?"}]}
    body = CLAUDE_ON_GEMINI.response(upstream, request)
    message = anthropic_sdk(as_bytes(body), content_type="application/json").messages.create(**request)
    (call,) = message.content
    assert (call.type, call.name, call.input) == ("tool_use", "weather", {"location": "San Francisco"})
    assert message.stop_reason == "tool_use" and message.model == "gemini-3-pro-preview"
    assert (message.usage.input_tokens, message.usage.cache_read_input_tokens, message.usage.output_tokens) == (29, 0, 908)
    # read by the ledger's Anthropic reader, the client's view is the upstream's buckets
    assert PROTOCOLS["anthropic-messages"].usage(body).tokens == PROTOCOLS["gemini"].usage(upstream).tokens


def test_the_signature_survives_a_claude_code_round_trip(wire):
    """The tool_use id the client got comes back in its next turn; Gemini gets its signature back on the call."""
    upstream = wire.recorded_json("gemini-3-pro-tool-call.json")
    first = {"model": "gemini-alias", "max_tokens": 100, "messages": [{"role": "user", "content": "weather?"}]}
    (call,) = CLAUDE_ON_GEMINI.response(upstream, first)["content"]
    second = {**first, "messages": [*first["messages"], {"role": "assistant", "content": [call]},
                                    {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call["id"], "content": "18C"}]}]}
    contents = CLAUDE_ON_GEMINI.request(second)["contents"]
    signature = upstream["candidates"][0]["content"]["parts"][0]["thoughtSignature"]
    assert contents[1] == {"role": "model", "parts": [
        {"functionCall": {"name": "weather", "args": {"location": "San Francisco"}}, "thoughtSignature": signature}]}
    assert contents[2] == {"role": "user", "parts": [{"functionResponse": {"name": "weather", "response": {"output": "18C"}}}]}


def test_responses_client_gets_a_response_object_through_the_chain(wire):
    upstream = wire.recorded_json("gemini-2.5-flash-cached-tool-use.json")
    body = get("openai-responses", "gemini").response(upstream, {"model": "gemini-alias", "input": "6*7?"})
    assert body["object"] == "response" and body["status"] == "completed"
    assert [item["type"] for item in body["output"]] == ["message"] and body["output"][0]["content"][0]["text"] == "42"
    assert body["usage"] == {"input_tokens": 82, "input_tokens_details": {"cached_tokens": 3}, "output_tokens": 60,
                             "output_tokens_details": {"reasoning_tokens": 56}, "total_tokens": 142}
    assert PROTOCOLS["openai-responses"].usage(body).tokens == PROTOCOLS["gemini"].usage(upstream).tokens
