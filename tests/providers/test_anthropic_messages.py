"""Anthropic Messages: input excludes cache, TTL split, cumulative message_delta, tool_use, errors."""

from __future__ import annotations

import json

import pytest

from inferaudit.providers import PROTOCOLS
from inferaudit.providers.base import SSEEvent
from inferaudit.usage import Tokens

MESSAGES = PROTOCOLS["anthropic-messages"]
STREAMS = ("anthropic-stream-haiku-tool-use.sse", "anthropic-stream-server-tool-cache.sse", "anthropic-stream-overloaded.sse")


def test_recorded_payloads_are_what_the_anthropic_sdk_parses(data):
    types = pytest.importorskip("anthropic.types")
    pydantic = pytest.importorskip("pydantic")
    for name in ("anthropic-message-haiku-tool-use.json", "anthropic-message-cache-ttl-split.json"):
        types.Message.model_validate(data.json(name))
    stream_event = pydantic.TypeAdapter(types.RawMessageStreamEvent)
    error = pydantic.TypeAdapter(types.ErrorResponse)
    for name in STREAMS:
        for event in data.events(data.bytes(name)):
            payload = json.loads(event.data)
            assert event.event == payload["type"]
            if payload["type"] != "ping":  # keep-alive; the SDK skips it and has no type for it
                (error if payload["type"] == "error" else stream_event).validate_python(payload)


def test_non_streaming_input_excludes_cache_and_writes_split_by_ttl(data):
    report = MESSAGES.usage(data.json("anthropic-message-cache-ttl-split.json"))
    # input_tokens 2048 are only the uncached part; 248 written = 148 for 5 minutes + 100 for 1 hour
    assert report.tokens == Tokens(input=2048, cache_read=1800, cache_write_5m=148, cache_write_1h=100, output=503)
    assert report.tokens.prompt == 2048 + 1800 + 248


def test_non_streaming_tool_use(data):
    report = MESSAGES.usage(data.json("anthropic-message-haiku-tool-use.json"))
    assert report.tokens == Tokens(input=1151, output=87)
    assert (report.tool_calls, report.finish_reason, report.model) == (1, "tool_use", "claude-haiku-4-5-20251001")
    assert report.extra == {"service_tier": "standard"}


def test_stream_message_delta_output_is_cumulative_not_added(data, chunk_size):
    report = data.replay("anthropic-messages", "anthropic-stream-haiku-tool-use.sse", chunk_size)
    # message_start says output 10, message_delta says 47 in all: 47, not 57
    assert report.tokens == Tokens(input=849, output=47)
    assert (report.tool_calls, report.finish_reason, report.complete) == (1, "tool_use", True)
    assert report.response_id == "msg_01K2JbSUMYhez5RHoK9ZCj9U"


def test_stream_server_tool_delta_restates_input_and_cache_counts(data, chunk_size):
    report = data.replay("anthropic-messages", "anthropic-stream-server-tool-cache.sse", chunk_size)
    # message_start: input 2, written 3068 (all 5m), read 0, output 69.
    # final message_delta (after two code-execution rounds): input 6, written 3337, read 6289, output 198.
    # The delta replaces; the 269 written tokens it adds have no TTL split and count as 5-minute writes.
    assert report.tokens == Tokens(input=6, cache_read=6289, cache_write_5m=3337, output=198)
    assert report.tool_calls == 0  # server_tool_use blocks run at Anthropic, not in the client
    assert report.extra["server_tool_calls"] == 2
    assert report.extra["server_tool_use.web_fetch_requests"] == 0


def test_our_stream_usage_matches_the_sdk_final_message(data, anthropic_sdk):
    for name in STREAMS[:2]:
        client = anthropic_sdk(data.bytes(name))
        with client.messages.stream(model="claude", max_tokens=64, messages=[{"role": "user", "content": "hi"}]) as s:
            final = s.get_final_message()
        assert data.replay("anthropic-messages", name).tokens == Tokens.from_anthropic(final.usage.model_dump())


def test_thinking_tokens_are_the_reasoning_part_of_output():
    usage = MESSAGES.stream_usage()
    usage.feed(SSEEvent("message_start", '{"type":"message_start","message":{"id":"msg_1","model":"claude",'
                                         '"usage":{"input_tokens":40,"output_tokens":1}}}'))
    usage.feed(SSEEvent("message_delta", '{"type":"message_delta","delta":{"stop_reason":"end_turn"},'
                                         '"usage":{"output_tokens":900,"output_tokens_details":{"thinking_tokens":700}}}'))
    assert usage.report().tokens == Tokens(input=40, output=900, reasoning=700)


def test_error_mid_stream_keeps_the_usage_seen_so_far(data, chunk_size):
    report = data.replay("anthropic-messages", "anthropic-stream-overloaded.sse", chunk_size)
    assert report.error == "Overloaded"
    assert (report.complete, report.tokens) == (False, Tokens(input=12, output=1))


@pytest.mark.parametrize(
    "status, kind, sdk_error",
    [(400, "invalid_request_error", "BadRequestError"), (401, "authentication_error", "AuthenticationError"),
     (403, "permission_error", "PermissionDeniedError"), (404, "not_found_error", "NotFoundError"),
     (413, "request_too_large", "APIStatusError"), (429, "rate_limit_error", "RateLimitError"),
     (500, "api_error", "InternalServerError"), (529, "overloaded_error", "InternalServerError")],
)
def test_error_body_is_what_the_anthropic_sdk_raises_on(anthropic_sdk, status, kind, sdk_error):
    anthropic = pytest.importorskip("anthropic")
    body = MESSAGES.error_body(status, "upstream said no")
    assert body == {"type": "error", "error": {"type": kind, "message": "upstream said no"}}
    client = anthropic_sdk(json.dumps(body).encode(), status, "application/json")
    with pytest.raises(getattr(anthropic, sdk_error)) as raised:
        client.messages.create(model="claude", max_tokens=8, messages=[{"role": "user", "content": "hi"}])
    assert raised.value.status_code == status and raised.value.body["error"]["type"] == kind


def test_error_event_ends_a_stream_the_way_the_anthropic_sdk_expects(data, anthropic_sdk):
    anthropic = pytest.importorskip("anthropic")
    head = data.bytes("anthropic-stream-haiku-tool-use.sse").split(b"event: message_delta")[0]
    raw = MESSAGES.error_event("upstream connection lost")
    assert raw.startswith(b"event: error\ndata: ")
    client = anthropic_sdk(head + raw)
    with pytest.raises(anthropic.APIStatusError, match="upstream connection lost"):
        with client.messages.stream(model="claude", max_tokens=8, messages=[{"role": "user", "content": "hi"}]) as s:
            for _ in s:
                pass


def test_body_passes_through_unchanged():
    body = {"model": "claude-sonnet-4-5", "max_tokens": 64, "stream": True, "messages": []}
    assert MESSAGES.prepare_upstream(body, stream=True) == (body, False)
    assert MESSAGES.is_stream(body, "/v1/messages") and MESSAGES.request_model(body, "/v1/messages") == "claude-sonnet-4-5"
