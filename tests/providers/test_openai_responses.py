"""OpenAI Responses: usage from the terminal event, function_call items, error events."""

from __future__ import annotations

import json
import typing

import pytest

from inferaudit.providers import PROTOCOLS
from inferaudit.providers.base import SSEEvent
from inferaudit.usage import Tokens

RESPONSES = PROTOCOLS["openai-responses"]


# Where the recorded wire differs from the SDK's types, event type -> (field, pydantic error):
# the recorded error event nests code/message under "error" (the reference puts them on top), and
# the failed response's error code "insufficient_quota" is not in the SDK's list of codes.
KNOWN_WIRE_DEVIATIONS = {"error": [("message", "missing")], "response.failed": [("code", "literal_error")]}


def sdk_event_types():
    responses = pytest.importorskip("openai.types.responses")
    union = typing.get_args(responses.ResponseStreamEvent)
    members = typing.get_args(union[0]) or union  # Annotated[Union[...], discriminator] or Union[...]
    return {typing.get_args(m.model_fields["type"].annotation)[0]: m for m in members}


def test_recorded_payloads_are_what_the_openai_sdk_parses(data):
    responses = pytest.importorskip("openai.types.responses")
    pydantic = pytest.importorskip("pydantic")
    try:
        responses.Response.model_validate(data.json("openai-responses-gpt-5-mini-reasoning.json"))
    except pydantic.ValidationError as exc:
        # recorded 2025-12, before input_tokens_details.cache_write_tokens existed; the SDK now requires it
        assert [(e["loc"][-1], e["type"]) for e in exc.errors()] == [("cache_write_tokens", "missing")]
    by_type = sdk_event_types()
    for name in ("openai-responses-stream-gpt-5.1-function-call.sse", "openai-responses-stream-error-quota.sse"):
        for event in data.events(data.bytes(name)):
            payload = json.loads(event.data)
            assert event.event == payload["type"]  # the event: line and data.type agree
            try:
                by_type[payload["type"]].model_validate(payload)
            except pydantic.ValidationError as exc:
                found = [(e["loc"][-1], e["type"]) for e in exc.errors()]
                assert found == KNOWN_WIRE_DEVIATIONS.get(payload["type"]), (name, payload["type"], found)


def test_non_streaming_reasoning_tokens(data):
    report = RESPONSES.usage(data.json("openai-responses-gpt-5-mini-reasoning.json"))
    # output_tokens 163 include reasoning_tokens 128; input 865 with nothing cached
    assert report.tokens == Tokens(input=865, output=163, reasoning=128)
    assert (report.model, report.finish_reason, report.tool_calls) == ("gpt-5-mini-2025-08-07", "completed", 0)


def test_stream_function_call_and_completed_usage(data, chunk_size):
    report = data.replay("openai-responses", "openai-responses-stream-gpt-5.1-function-call.sse", chunk_size)
    assert report.tokens == Tokens(input=45, output=25)
    assert (report.tool_calls, report.complete, report.finish_reason) == (1, True, "completed")
    assert report.response_id == "resp_0775572d10a16b66006a8d85285ef487d2ae865d3657af7276"
    assert "input_tokens_details.cache_write_tokens" not in report.extra  # read into the buckets (0 here)


def test_cached_and_reasoning_tokens_in_the_completed_event():
    # hand-written terminal event (the recorded streams all have cached_tokens 0)
    completed = {
        "type": "response.completed",
        "sequence_number": 9,
        "response": {
            "id": "resp_1", "object": "response", "status": "completed", "model": "gpt-5", "output": [],
            "usage": {
                "input_tokens": 2006, "input_tokens_details": {"cached_tokens": 1920},
                "output_tokens": 300, "output_tokens_details": {"reasoning_tokens": 256}, "total_tokens": 2306,
            },
        },
    }
    usage = RESPONSES.stream_usage()
    usage.feed(SSEEvent("response.completed", json.dumps(completed)))
    assert usage.report().tokens == Tokens(input=2006 - 1920, cache_read=1920, output=300, reasoning=256)


# GPT-5.6 and later report cache writes inside input_tokens (billed 1.25x input). Shapes as published:
# OpenAI's prompt-caching guide (2,600 in, 2,000 read, 400 written) and a cold GPT-5.6 call quoted in
# dotnet/extensions#7635 (9,658 in, 9,655 written).
GUIDE_USAGE = {"input_tokens": 2600, "input_tokens_details": {"cached_tokens": 2000, "cache_write_tokens": 400},
               "output_tokens": 300, "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 2900}
COLD_USAGE = {"input_tokens": 9658, "input_tokens_details": {"cache_write_tokens": 9655, "cached_tokens": 0},
              "output_tokens": 42, "output_tokens_details": {"reasoning_tokens": 25}, "total_tokens": 9700}


@pytest.mark.parametrize("usage, tokens", [
    (GUIDE_USAGE, Tokens(input=200, cache_read=2000, cache_write_5m=400, output=300)),
    (COLD_USAGE, Tokens(input=3, cache_write_5m=9655, output=42, reasoning=25)),
], ids=["guide", "cold"])
@pytest.mark.parametrize("streamed", [False, True], ids=["json", "stream"])
def test_cache_writes_are_taken_out_of_the_input_count(usage, tokens, streamed):
    response = {"id": "resp_1", "object": "response", "status": "completed", "model": "gpt-5.6-terra",
                "output": [], "usage": usage}
    if streamed:
        stream = RESPONSES.stream_usage()
        stream.feed(SSEEvent("response.completed", json.dumps(
            {"type": "response.completed", "sequence_number": 5, "response": response})))
        report = stream.report()
    else:
        report = RESPONSES.usage(response)
    assert report.tokens == tokens and tokens.prompt == usage["input_tokens"]
    assert not any("cache_write" in key for key in report.extra)


def test_writes_and_reads_above_the_input_count_are_kept_aside_not_raised():
    usage = {**GUIDE_USAGE, "input_tokens": 2399}
    report = RESPONSES.usage({"id": "r", "status": "completed", "output": [], "usage": usage})
    assert report.tokens is None and "cache-write" in report.extra["usage_problem"]


def test_stream_cut_before_the_terminal_event_has_no_usage_but_counts_calls(data):
    events = data.events(data.bytes("openai-responses-stream-gpt-5.1-function-call.sse"))
    usage = RESPONSES.stream_usage()
    for event in events[:-1]:
        usage.feed(event)
    report = usage.report()
    assert (report.tokens, report.complete, report.tool_calls) == (None, False, 1)


def test_error_event_then_failed_response(data, chunk_size):
    report = data.replay("openai-responses", "openai-responses-stream-error-quota.sse", chunk_size)
    assert report.error.startswith("You exceeded your current quota")
    assert (report.finish_reason, report.complete, report.tokens) == ("failed", True, None)


def test_error_event_alone_is_reported(data):
    """A stream cut right after its error event: the message comes from the event's nested error."""
    usage = RESPONSES.stream_usage()
    for event in data.events(data.bytes("openai-responses-stream-error-quota.sse"))[:3]:
        usage.feed(event)
    report = usage.report()
    assert report.error.startswith("You exceeded your current quota") and not report.complete


def test_error_body_matches_the_recorded_error_shape(data):
    recorded = data.json("openai-error-insufficient-quota.json")
    ours = RESPONSES.error_body(429, "slow down")
    assert set(ours["error"]) == set(recorded["error"]) == {"message", "type", "param", "code"}
    assert ours["error"]["type"] == "rate_limit_error"
    assert RESPONSES.usage(recorded).error == recorded["error"]["message"]


def test_error_event_is_both_the_documented_and_the_recorded_shape(data, openai_sdk):
    openai = pytest.importorskip("openai")
    responses = pytest.importorskip("openai.types.responses")
    raw = RESPONSES.error_event("upstream connection lost")
    (event,) = data.events(raw)
    payload = json.loads(event.data)
    assert event.event == "error"
    responses.ResponseErrorEvent.model_validate(payload)  # the API reference's shape
    assert payload["error"]["message"] == "upstream connection lost"  # the recorded wire's shape
    head = data.bytes("openai-responses-stream-gpt-5.1-function-call.sse").split(b"\n\n")[:3]
    client = openai_sdk(b"\n\n".join(head) + b"\n\n" + raw)
    with pytest.raises(openai.APIError, match="upstream connection lost"):
        for _ in client.responses.create(model="gpt-5.1", input="hi", stream=True):
            pass


def test_our_stream_usage_matches_the_sdk_final_response(data, openai_sdk):
    name = "openai-responses-stream-gpt-5.1-function-call.sse"
    with openai_sdk(data.bytes(name)).responses.stream(model="gpt-5.1", input="hi") as stream:
        final = stream.get_final_response()
    assert data.replay("openai-responses", name).tokens == RESPONSES.usage(final.model_dump()).tokens


def test_prepare_upstream_leaves_the_body_alone():
    body = {"model": "gpt-5", "input": "hi", "stream": True}
    assert RESPONSES.prepare_upstream(body, stream=True) == (body, False)
    assert RESPONSES.is_stream(body, "/v1/responses") and RESPONSES.request_model(body, "/v1/responses") == "gpt-5"
