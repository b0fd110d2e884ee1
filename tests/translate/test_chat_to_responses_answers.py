"""Whole Responses answers as Chat Completions (and, through the hub, as Anthropic messages), read by the real SDKs."""

from __future__ import annotations

import copy
import json

import pytest

from inferaudit.providers import PROTOCOLS
from inferaudit.translate import TranslationError, get
from inferaudit.usage import Tokens

TO_RESPONSES = get("openai-chat", "openai-responses")
CLAUDE_ON_RESPONSES = get("anthropic-messages", "openai-responses")
REASONING = "openai-responses-gpt-5-mini-reasoning.json"
CHAT_REQUEST = {"model": "gpt-5-mini", "messages": [{"role": "user", "content": "12+7, x3, x10?"}]}


def function_call_response(wire) -> dict:
    """The recorded gpt-5.1 stream's final response object (one function call), as a JSON answer carries it."""
    (completed,) = [e for e in wire.events(wire.recorded_bytes("openai-responses-stream-gpt-5.1-function-call.sse"))
                    if e.event == "response.completed"]
    return json.loads(completed.data)["response"]


def sdk_completion(openai_sdk, body: dict, request: dict = CHAT_REQUEST):
    """What the openai SDK makes of the translated answer."""
    return openai_sdk(json.dumps(body).encode(), content_type="application/json").chat.completions.create(**request)


def test_reasoning_answer_reaches_the_openai_sdk(wire, openai_sdk):
    upstream = wire.recorded_json(REASONING)
    completion = sdk_completion(openai_sdk, TO_RESPONSES.response(upstream, CHAT_REQUEST))
    choice = completion.choices[0]
    assert completion.id == "chatcmpl-0f35ed53160b395301693cc957829881909359e7f80cdd20b5"
    assert (completion.model, completion.created, completion.service_tier) == ("gpt-5-mini-2025-08-07", 1765591383, "default")
    assert choice.message.content == "12 + 7 = 19\n19 × 3 = 57\n57 × 10 = 570\n\nFinal result: 570"
    assert choice.message.tool_calls is None and choice.finish_reason == "stop"
    # the reasoning summary never reaches content; it rides beside it, as other translators give it
    assert choice.message.model_extra["reasoning_content"].startswith("**Reporting final result**")
    usage = completion.usage  # input 865 (0 cached), output 163 of which 128 reasoning
    assert (usage.prompt_tokens, usage.prompt_tokens_details.cached_tokens, usage.completion_tokens) == (865, 0, 163)
    assert (usage.completion_tokens_details.reasoning_tokens, usage.total_tokens) == (128, 1028)


def test_function_call_answer_keeps_the_call_id(wire, openai_sdk):
    completion = sdk_completion(openai_sdk, TO_RESPONSES.response(function_call_response(wire), CHAT_REQUEST))
    choice = completion.choices[0]
    (call,) = choice.message.tool_calls
    assert (call.id, call.type, call.function.name) == ("call_2FQdm3Br7Qb35YUBSkDR7kue", "function", "get_weather")
    assert json.loads(call.function.arguments) == {"city": "Beijing"}
    assert choice.message.content is None and choice.finish_reason == "tool_calls"
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (45, 25)


def test_the_answer_books_what_the_upstream_booked(wire):
    """The chat view of the usage, read by the chat rules, gives the buckets the Responses rules give the upstream's."""
    expected = [Tokens(input=353, cache_read=512, output=163, reasoning=128), Tokens(input=13, cache_read=32, output=25)]
    for upstream, cached, tokens in zip((wire.recorded_json(REASONING), function_call_response(wire)), (512, 32), expected):
        upstream = copy.deepcopy(upstream)
        upstream["usage"]["input_tokens_details"]["cached_tokens"] = cached
        seen = PROTOCOLS["openai-chat"].usage(TO_RESPONSES.response(upstream, CHAT_REQUEST)).tokens
        assert seen == PROTOCOLS["openai-responses"].usage(upstream).tokens == tokens


def test_cached_and_written_tokens_keep_their_convention():
    usage = {"input_tokens": 2092, "input_tokens_details": {"cached_tokens": 1792, "cache_write_tokens": 200},
             "output_tokens": 40, "output_tokens_details": {"reasoning_tokens": 12}, "total_tokens": 2132}
    body = {"id": "resp_1", "object": "response", "status": "completed", "model": "o3-pro", "usage": usage,
            "output": [{"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "hi"}]}]}
    assert TO_RESPONSES.response(body)["usage"] == {
        "prompt_tokens": 2092, "completion_tokens": 40, "total_tokens": 2132,
        "prompt_tokens_details": {"cached_tokens": 1792, "cache_write_tokens": 200},
        "completion_tokens_details": {"reasoning_tokens": 12}}
    # through the hub, Anthropic's convention: input excludes the cache reads and writes
    message = CLAUDE_ON_RESPONSES.response(body, {"model": "o3-pro", "max_tokens": 100, "messages": []})
    assert message["usage"] == {"input_tokens": 100, "cache_creation_input_tokens": 200, "cache_read_input_tokens": 1792,
                                "output_tokens": 40, "output_tokens_details": {"thinking_tokens": 12}}


@pytest.mark.parametrize("status, details, calls, finish", [
    ("incomplete", {"reason": "max_output_tokens"}, False, "length"),
    ("incomplete", {"reason": "max_output_tokens"}, True, "length"),  # the call's arguments may be cut
    ("incomplete", {"reason": "content_filter"}, False, "content_filter"),
    ("completed", None, True, "tool_calls"),
    ("completed", None, False, "stop"),
])
def test_status_and_incomplete_details_give_the_finish_reason(status, details, calls, finish):
    output = [{"id": "msg_1", "type": "message", "status": status, "role": "assistant",
               "content": [{"type": "output_text", "text": "The answer is", "annotations": [], "logprobs": []}]}]
    if calls:
        output.append({"id": "fc_1", "type": "function_call", "status": status, "call_id": "call_1", "name": "f",
                       "arguments": '{"a":'})
    body = {"id": "resp_1", "object": "response", "status": status, "incomplete_details": details, "error": None,
            "model": "o3-pro", "output": output, "usage": None}
    assert TO_RESPONSES.response(body)["choices"][0]["finish_reason"] == finish


def test_refusal_logprobs_and_raw_reasoning(openai_sdk):
    logprob = {"token": "Hi", "logprob": -0.1, "bytes": [72, 105], "top_logprobs": [{"token": "Hi", "logprob": -0.1, "bytes": [72, 105]}]}
    body = {"id": "resp_2", "object": "response", "created_at": 1, "status": "completed", "model": "gpt-oss-120b", "output": [
        {"id": "rs_1", "type": "reasoning", "summary": [], "content": [{"type": "reasoning_text", "text": "thinking"}]},
        {"id": "msg_1", "type": "message", "role": "assistant", "status": "completed",
         "content": [{"type": "output_text", "text": "Hi", "annotations": [], "logprobs": [logprob]}]}]}
    request = {**CHAT_REQUEST, "logprobs": True, "top_logprobs": 1}
    completion = sdk_completion(openai_sdk, TO_RESPONSES.response(body, request), request)
    assert completion.choices[0].message.model_extra["reasoning_content"] == "thinking"
    (entry,) = completion.choices[0].logprobs.content
    assert (entry.token, entry.logprob, entry.bytes, entry.top_logprobs[0].token) == ("Hi", -0.1, [72, 105], "Hi")
    assert TO_RESPONSES.response(body, CHAT_REQUEST)["choices"][0]["logprobs"] is None  # not asked for

    refused = {**body, "output": [{"id": "msg_1", "type": "message", "role": "assistant", "status": "completed",
                                   "content": [{"type": "refusal", "refusal": "I can't help with that."}]}]}
    message = sdk_completion(openai_sdk, TO_RESPONSES.response(refused, CHAT_REQUEST)).choices[0].message
    assert (message.content, message.refusal) == (None, "I can't help with that.")


@pytest.mark.parametrize("body, message", [
    ({"id": "resp_3", "object": "response", "status": "failed", "output": [],
      "error": {"code": "server_error", "message": "The model failed to generate a response."}}, "The model failed"),
    ({"error": {"message": "Invalid 'input[0].content'", "type": "invalid_request_error"}}, "Invalid 'input"),
])
def test_a_failed_response_is_no_answer(body, message):
    with pytest.raises(TranslationError, match=message):
        TO_RESPONSES.response(body, CHAT_REQUEST)


def test_responses_error_bodies_become_each_clients_error(openai_sdk):
    openai = pytest.importorskip("openai")
    upstream = json.dumps({"error": {"message": "You exceeded your current quota, please check your plan and billing details.",
                                     "type": "insufficient_quota", "param": None, "code": "insufficient_quota"}}).encode()
    body = TO_RESPONSES.error_body(429, upstream)
    assert body == PROTOCOLS["openai-chat"].error_body(429, "You exceeded your current quota, please check your plan and billing details.")
    with pytest.raises(openai.RateLimitError, match="exceeded your current quota"):
        openai_sdk(json.dumps(body).encode(), 429, "application/json").chat.completions.create(**CHAT_REQUEST)
    claude = CLAUDE_ON_RESPONSES.error_body(503, b"upstream connect error")
    assert claude == PROTOCOLS["anthropic-messages"].error_body(503, "upstream connect error")


def test_claude_gets_a_message_through_the_hub(wire, anthropic_sdk):
    request = {"model": "gpt-5.1", "max_tokens": 500, "messages": [{"role": "user", "content": "Weather in Beijing?"}]}
    body = CLAUDE_ON_RESPONSES.response(function_call_response(wire), request)
    message = anthropic_sdk(json.dumps(body).encode(), content_type="application/json").messages.create(**request)
    (call,) = message.content
    assert (message.stop_reason, call.type, call.id, call.input) == ("tool_use", "tool_use", "call_2FQdm3Br7Qb35YUBSkDR7kue",
                                                                      {"city": "Beijing"})
    assert (message.usage.input_tokens, message.usage.output_tokens) == (45, 25)
