"""OpenAI Chat Completions and OpenAI-compatible servers: usage to buckets, include_usage, errors."""

from __future__ import annotations

import json

import pytest

from inferaudit.providers import PROTOCOLS
from inferaudit.providers.base import SSEEvent
from inferaudit.providers.openai_chat import is_usage_only_chunk
from inferaudit.usage import Tokens

CHAT = PROTOCOLS["openai-chat"]


def test_recorded_bodies_are_what_the_openai_sdk_parses(data):
    types = pytest.importorskip("openai.types.chat")
    completion = types.ChatCompletion.model_validate(data.json("openai-chat-azure-gpt-4o-tool-call-cached.json"))
    assert completion.usage.prompt_tokens_details.cached_tokens == 1920
    for name in ("openai-chat-stream-azure-gpt-5-nano.sse", "openai-chat-stream-gpt-3.5-trace.sse",
                 "openai-chat-stream-llamacpp-spec.sse", "openai-chat-stream-vllm-spec.sse"):
        chunks = [json.loads(e.data) for e in data.events(data.bytes(name)) if e.data != "[DONE]"]
        # Azure opens with a prompt-filter chunk whose object is "": not a chunk the SDK types
        for chunk in (c for c in chunks if c["object"] == "chat.completion.chunk"):
            types.ChatCompletionChunk.model_validate(chunk)


def test_non_streaming_cached_prompt_and_tool_call(data):
    report = CHAT.usage(data.json("openai-chat-azure-gpt-4o-tool-call-cached.json"))
    # prompt_tokens 2012 includes cached_tokens 1920
    assert report.tokens == Tokens(input=2012 - 1920, cache_read=1920, output=23)
    assert (report.tool_calls, report.finish_reason, report.complete) == (1, "tool_calls", True)
    assert (report.model, report.response_id) == ("gpt-4o-2024-11-20", "chatcmpl-BMTWfxTMiqoJFie4RuxDfx0c7eXOw")
    assert report.extra["completion_tokens_details.accepted_prediction_tokens"] == 0
    assert "prompt_tokens_details.cached_tokens" not in report.extra  # taken by the buckets, not an extra


def test_stream_include_usage_final_chunk_with_reasoning(data, chunk_size):
    report = data.replay("openai-chat", "openai-chat-stream-azure-gpt-5-nano.sse", chunk_size)
    # completion_tokens 78 include reasoning_tokens 64; prompt 15 with nothing cached
    assert report.tokens == Tokens(input=15, output=78, reasoning=64)
    assert (report.model, report.finish_reason, report.complete) == ("gpt-5-nano-2025-08-07", "stop", True)
    assert report.response_id == "chatcmpl-CYPS1lijGoK8gd9lYzY3r9Sx50nbt"


def test_llama_cpp_stream_cached_prompt_tool_call_and_draft_counters(data, chunk_size):
    report = data.replay("openai-chat", "openai-chat-stream-llamacpp-spec.sse", chunk_size)
    assert report.tokens == Tokens(input=808 - 804, cache_read=804, output=665)
    assert report.tool_calls == 1  # one call, its arguments spread over two deltas
    assert (report.extra["spec_draft_tokens"], report.extra["spec_accepted_tokens"]) == (604, 515)
    assert "spec_steps" not in report.extra  # llama.cpp does not report verify steps
    assert report.extra["timings"]["predicted_n"] == 665


def test_vllm_per_request_spec_decode_metrics_and_unknown_usage_fields(data, chunk_size):
    report = data.replay("openai-chat", "openai-chat-stream-vllm-spec.sse", chunk_size)
    assert report.tokens == Tokens(input=11742, output=35, reasoning=18)
    extra = report.extra
    assert (extra["spec_draft_tokens"], extra["spec_accepted_tokens"], extra["spec_steps"]) == (129, 10, 43)
    assert extra["metrics"]["speculative_decoding"]["acceptance_histogram"] == [39, 1, 0, 3]
    assert extra["prompt_tokens_details.created_cache_tokens"] == 9504


def test_usage_only_chunk_is_the_one_with_usage_not_any_empty_choices_chunk(data):
    chunks = [json.loads(e.data) for e in data.events(data.bytes("openai-chat-stream-azure-gpt-5-nano.sse"))[:-1]]
    flags = [is_usage_only_chunk(c) for c in chunks]
    assert chunks[0]["choices"] == [] and flags == [False] * (len(chunks) - 1) + [True]


def test_prepare_upstream_asks_for_usage_only_when_the_client_did_not():
    body = {"model": "gpt-4o", "stream": True, "stream_options": {"include_obfuscation": False}}
    sent, strip = CHAT.prepare_upstream(body, stream=True)
    assert sent["stream_options"] == {"include_obfuscation": False, "include_usage": True}
    assert strip is True
    assert body["stream_options"] == {"include_obfuscation": False}  # the client's body is not mutated

    asked = {"model": "gpt-4o", "stream": True, "stream_options": {"include_usage": True}}
    assert CHAT.prepare_upstream(asked, stream=True) == (asked, False)
    refused = {"model": "gpt-4o", "stream": True, "stream_options": {"include_usage": False}}
    assert CHAT.prepare_upstream(refused, stream=True)[0]["stream_options"]["include_usage"] is True
    plain = {"model": "gpt-4o"}
    assert CHAT.prepare_upstream(plain, stream=False) == (plain, False)


def test_request_model_and_stream_flag():
    assert CHAT.request_model({"model": "gpt-4.1"}, "/v1/chat/completions") == "gpt-4.1"
    assert CHAT.request_model({"model": 3}, "/v1/chat/completions") is None
    assert CHAT.is_stream({"stream": True}, "/v1/chat/completions") is True
    assert CHAT.is_stream({"stream": "yes"}, "/v1/chat/completions") is False


def test_stream_without_usage_chunk_or_done_reports_what_it_saw(data):
    events = data.events(data.bytes("openai-chat-stream-gpt-3.5-trace.sse"))
    usage = CHAT.stream_usage()
    for event in events[:-2]:  # cut before the usage chunk and [DONE]
        usage.feed(event)
    report = usage.report()
    assert (report.tokens, report.complete, report.finish_reason) == (None, False, "stop")


def test_mid_stream_error_event_is_reported():
    usage = CHAT.stream_usage()
    usage.feed(SSEEvent(None, '{"id":"c","choices":[{"index":0,"delta":{"content":"Hi"}}]}'))
    usage.feed(SSEEvent(None, '{"error":{"message":"The server had an error","type":"server_error","param":null,"code":null}}'))
    assert usage.report().error == "The server had an error"


def test_impossible_usage_is_kept_aside_not_raised():
    report = CHAT.usage({"usage": {"prompt_tokens": 10, "completion_tokens": 1, "prompt_tokens_details": {"cached_tokens": 11}}})
    assert report.tokens is None and "exceed" in report.extra["usage_problem"]


# A cold GPT-5.6 call as quoted in dotnet/extensions#7635: writes are inside prompt_tokens, billed 1.25x input.
COLD_USAGE = {"prompt_tokens": 9657, "completion_tokens": 78, "total_tokens": 9735,
              "prompt_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 9654, "audio_tokens": 0},
              "completion_tokens_details": {"reasoning_tokens": 37, "audio_tokens": 0,
                                            "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}}


def test_cache_writes_are_taken_out_of_the_prompt_count():
    report = CHAT.usage({"id": "c", "model": "gpt-5.6-terra", "choices": [], "usage": COLD_USAGE})
    assert report.tokens == Tokens(input=3, cache_write_5m=9654, output=78, reasoning=37)
    assert "prompt_tokens_details.cache_write_tokens" not in report.extra


def test_cache_writes_in_the_include_usage_chunk():
    usage = CHAT.stream_usage()
    usage.feed(SSEEvent(None, '{"id":"c","model":"gpt-5.6-terra","choices":[{"index":0,"delta":{"content":"Hi"}}]}'))
    usage.feed(SSEEvent(None, json.dumps({"id": "c", "model": "gpt-5.6-terra", "choices": [], "usage": COLD_USAGE})))
    usage.feed(SSEEvent(None, "[DONE]"))
    assert usage.report().tokens == Tokens(input=3, cache_write_5m=9654, output=78, reasoning=37)


def test_cache_writes_cost_the_write_rate():
    from inferaudit.pricing import PriceBook

    book = PriceBook.load()
    tokens = CHAT.usage({"usage": COLD_USAGE}).tokens
    rates = book.rates("openai", "gpt-5.6-terra").for_prompt(tokens.prompt)
    assert rates.cache_write_5m == pytest.approx(1.25 * rates.input)  # genai-prices: $3.125 against $2.50
    expected = (3 * rates.input + 9654 * rates.cache_write_5m + 78 * rates.output) / 1e6
    assert book.cost("openai", "gpt-5.6-terra", tokens) == pytest.approx(expected)


@pytest.mark.parametrize(
    "status, kind, sdk_error",
    [(400, "invalid_request_error", "BadRequestError"), (401, "authentication_error", "AuthenticationError"),
     (404, "not_found_error", "NotFoundError"), (429, "rate_limit_error", "RateLimitError"),
     (503, "server_error", "InternalServerError")],
)
def test_error_body_is_what_the_openai_sdk_raises_on(openai_sdk, status, kind, sdk_error):
    openai = pytest.importorskip("openai")
    body = CHAT.error_body(status, "upstream said no")
    assert body == {"error": {"message": "upstream said no", "type": kind, "param": None, "code": None}}
    client = openai_sdk(json.dumps(body).encode(), status, "application/json")
    with pytest.raises(getattr(openai, sdk_error)) as raised:
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    assert (raised.value.type, raised.value.status_code) == (kind, status)
    assert "upstream said no" in str(raised.value)


def test_error_event_ends_a_stream_the_way_the_openai_sdk_expects(data, openai_sdk):
    openai = pytest.importorskip("openai")
    head = data.bytes("openai-chat-stream-gpt-3.5-trace.sse").split(b"\n\n")[:3]
    stream = b"\n\n".join(head) + b"\n\n" + CHAT.error_event("upstream connection lost")
    client = openai_sdk(stream)
    received = []
    with pytest.raises(openai.APIError, match="upstream connection lost"):
        for chunk in client.chat.completions.create(model="gpt-4o", messages=[], stream=True):
            received.append(chunk)
    assert len(received) == 3
    usage = CHAT.stream_usage()
    for event in data.events(stream):
        usage.feed(event)
    assert usage.report().error == "upstream connection lost"


def test_our_stream_usage_matches_the_sdk_reading_the_same_bytes(data, openai_sdk):
    for name in ("openai-chat-stream-azure-gpt-5-nano.sse", "openai-chat-stream-llamacpp-spec.sse"):
        chunks = list(openai_sdk(data.bytes(name)).chat.completions.create(model="m", messages=[], stream=True))
        sdk_usage = chunks[-1].usage.model_dump()
        assert data.replay("openai-chat", name).tokens == CHAT.usage({"usage": sdk_usage}).tokens
