"""Gemini: prompt includes cached, thoughts and tool-use prompts beside, cumulative stream usage, errors."""

from __future__ import annotations

import pytest

from inferaudit.providers import PROTOCOLS
from inferaudit.providers.base import SSEEvent
from inferaudit.usage import Tokens

GEMINI = PROTOCOLS["gemini"]
RECORDED = {
    # name: (expected buckets, totalTokenCount the response reports)
    "gemini-2.5-flash-cached-tool-use.json": (Tokens(input=19 + 63 - 3, cache_read=3, output=4 + 56, reasoning=56), 142),
    "gemini-3-pro-tool-call.json": (Tokens(input=29, output=15 + 893, reasoning=893), 937),
    "gemini-stream-3-pro-reasoning.sse": (Tokens(input=9, output=29 + 256, reasoning=256), 294),
    "gemini-stream-usage-live.sse": (Tokens(input=12 + 65 - 4, cache_read=4, output=71 + 89, reasoning=89), 237),
    "gemini-stream-vertex-streamed-args.sse": (Tokens(input=26, output=23 + 132, reasoning=132), 181),
}


def report_of(data, name, chunk_size=None):
    if name.endswith(".json"):
        return GEMINI.usage(data.json(name))
    return data.replay("gemini", name, chunk_size)


@pytest.mark.parametrize("name", RECORDED)
def test_buckets_add_up_to_the_total_google_reports(data, name):
    """Every token of totalTokenCount lands in exactly one bucket: nothing lost, nothing counted twice."""
    expected, total = RECORDED[name]
    tokens = report_of(data, name).tokens
    assert tokens == expected
    assert tokens.prompt + tokens.output == total


def test_cached_content_and_tool_use_prompt_tokens(data):
    report = GEMINI.usage(data.json("gemini-2.5-flash-cached-tool-use.json"))
    # promptTokenCount 19 includes cachedContentTokenCount 3; toolUsePromptTokenCount 63 comes on top
    assert (report.tokens.input, report.tokens.cache_read) == (79, 3)
    assert report.model == "gemini-2.5-flash" and report.finish_reason == "STOP"
    assert report.extra["futureUsageField"] == "preserve-me"  # unknown usage fields are kept
    assert report.extra["cacheTokensDetails"] == [{"modality": "TEXT", "tokenCount": 3, "futureDetailField": "cache"}]


def test_stream_usage_is_the_last_cumulative_chunk_not_the_sum(data, chunk_size):
    report = data.replay("gemini", "gemini-stream-3-pro-reasoning.sse", chunk_size)
    # chunks say candidates 10, 29, 29 with thoughts 256 each time: the last is the total
    assert report.tokens == Tokens(input=9, output=29 + 256, reasoning=256)
    assert (report.model, report.response_id) == ("gemini-3-pro-preview", "dX6LadKVC7SZ28oPr9yJoQs")
    assert report.complete


def test_streamed_function_call_arguments_count_one_call_per_named_part(data, chunk_size):
    report = data.replay("gemini", "gemini-stream-vertex-streamed-args.sse", chunk_size)
    # 8 functionCall parts: two name the function (getWeather Boston, getWeather San Francisco), the rest
    # carry partial arguments; early chunks have a usageMetadata without counts
    assert report.tool_calls == 2
    assert report.tokens == Tokens(input=26, output=155, reasoning=132)


def test_non_streaming_function_call(data):
    report = GEMINI.usage(data.json("gemini-3-pro-tool-call.json"))
    assert (report.tool_calls, report.response_id) == (1, "m36LaZGyCLz1xs0PtNSB-QU")


def test_model_and_streaming_come_from_the_path():
    stream = "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
    assert GEMINI.request_model({}, stream) == "gemini-2.5-flash"
    assert GEMINI.is_stream({}, stream) is True
    assert GEMINI.is_stream({}, "/v1beta/models/gemini-2.5-flash:generateContent") is False
    assert GEMINI.request_model({"model": "ignored"}, "/v1/chat/completions") is None
    body = {"contents": [{"parts": [{"text": "hi"}]}]}
    assert GEMINI.prepare_upstream(body, stream=True) == (body, False)


def test_blocked_prompt_is_a_finish_reason_without_candidates():
    report = GEMINI.usage({"promptFeedback": {"blockReason": "SAFETY"}, "usageMetadata": {"promptTokenCount": 8}})
    assert (report.finish_reason, report.tokens) == ("SAFETY", Tokens(input=8))


def test_error_body_shape_matches_a_recorded_error(data):
    recorded = data.json("gemini-error-429-retry-info.json")
    ours = GEMINI.error_body(429, "slow down")
    assert ours == {"error": {"code": 429, "message": "slow down", "status": recorded["error"]["status"]}}
    assert GEMINI.error_body(400, "bad")["error"]["status"] == "INVALID_ARGUMENT"
    assert GEMINI.error_body(503, "later")["error"]["status"] == "UNAVAILABLE"
    assert GEMINI.usage(recorded).error == "You exceeded your current quota, please check your plan."


def test_error_event_is_a_crlf_data_line_the_stream_reader_reports(data):
    raw = GEMINI.error_event("upstream connection lost")
    assert raw.endswith(b"\r\n\r\n") and raw.startswith(b'data: {"error":')
    usage = GEMINI.stream_usage()
    for event in data.events(data.bytes("gemini-stream-3-pro-reasoning.sse").split(b"\r\n\r\n")[0] + b"\r\n\r\n" + raw):
        usage.feed(event)
    report = usage.report()
    assert report.error == "upstream connection lost"
    assert report.tokens == Tokens(input=9, output=10 + 256, reasoning=256)  # what arrived before the error


def test_garbage_events_are_skipped():
    usage = GEMINI.stream_usage()
    usage.feed(SSEEvent(None, "<html>502 Bad Gateway</html>"))
    usage.feed(SSEEvent(None, "[1, 2]"))
    assert usage.report().tokens is None
