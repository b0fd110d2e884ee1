"""The loopback upstream, driven by the official SDKs (OpenAI, Anthropic) and raw HTTP (Gemini)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request

import anthropic
import openai
import pytest

from inferaudit.testing import Emulator, EmulatorThread
from inferaudit.testing.delivery import segments
from inferaudit.usage import Tokens

MODEL, CLAUDE, GEMINI = "gpt-4o-mini", "claude-opus-4-6", "gemini-2.5-flash"
ASK = [{"role": "user", "content": "What does the ledger say about cache reads?"}]
PARAMS = {"type": "object", "properties": {"location": {"type": "string"}, "unit": {"type": "string"}}}
CHAT_TOOLS = [{"type": "function", "function": {"name": "get_weather", "parameters": PARAMS}}]
RESPONSES_TOOLS = [{"type": "function", "name": "get_weather", "parameters": PARAMS}]
CLAUDE_TOOLS = [{"name": "get_weather", "input_schema": PARAMS}]
USAGE = "x-emulator-usage"


@pytest.fixture(scope="module")
def emu():
    with EmulatorThread() as server:
        yield server


@pytest.fixture(autouse=True)
def _fresh(emu):
    emu.reset()


def oai(emu, **options) -> openai.OpenAI:
    return openai.OpenAI(base_url=emu.openai_url, api_key="sk-test-secret", max_retries=0, **options)


def claude(emu, **options) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=emu.anthropic_url, api_key="sk-ant-test", max_retries=0, **options)


def post(url: str, body: dict, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, json.dumps(body).encode(), {"content-type": "application/json", **headers})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as err:
        return err.code, {k.lower(): v for k, v in err.headers.items()}, err.read()


# -- OpenAI Chat Completions ---------------------------------------------------------------------


def test_chat_json_reports_the_usage_the_emulator_recorded(emu):
    raw = oai(emu).chat.completions.with_raw_response.create(model=MODEL, messages=ASK)
    reply = raw.parse()
    sent = emu.requests[-1].usage
    assert raw.headers["x-request-id"].startswith("req_") and raw.headers["content-type"] == "application/json"
    assert reply.id.startswith("chatcmpl-") and reply.id == emu.requests[-1].response_id
    assert reply.choices[0].message.content and reply.choices[0].finish_reason == "stop"
    usage = reply.usage
    assert (usage.prompt_tokens, usage.completion_tokens) == (sent.prompt, sent.output)
    assert usage.prompt_tokens_details.cached_tokens == sent.cache_read
    assert usage.completion_tokens_details.reasoning_tokens == sent.reasoning
    assert usage.total_tokens == sent.prompt + sent.output


def test_chat_stream_with_usage_matches_the_same_prompt_unstreamed(emu):
    client = oai(emu)
    whole = client.chat.completions.create(model=MODEL, messages=ASK)
    chunks = list(client.chat.completions.create(
        model=MODEL, messages=ASK, stream=True, stream_options={"include_usage": True}))
    assert chunks[-1].choices == [] and chunks[-1].usage == whole.usage
    assert all(c.usage is None for c in chunks[:-1])
    assert "".join(c.choices[0].delta.content or "" for c in chunks[:-1]) == whole.choices[0].message.content
    assert len({c.id for c in chunks}) == 1 and chunks[0].id != whole.id
    first, second = emu.requests
    assert second.stream and second.usage == first.usage and second.events_sent == second.events_total


def test_chat_stream_without_include_usage_sends_no_usage(emu):
    chunks = list(oai(emu).chat.completions.create(model=MODEL, messages=ASK, stream=True))
    assert chunks and all(c.usage is None for c in chunks)
    record = emu.requests[-1]
    assert record.usage is None and record.planned is not None and record.outcome == "ok"


def test_chat_tool_calls_stream_in_pieces_and_agree_with_json(emu):
    client = oai(emu)
    with client.chat.completions.stream(model=MODEL, messages=ASK, tools=CHAT_TOOLS,
                                        stream_options={"include_usage": True}) as stream:
        pieces = [e for e in stream if e.type == "tool_calls.function.arguments.delta"]
        final = stream.get_final_completion()
    whole = client.chat.completions.create(model=MODEL, messages=ASK, tools=CHAT_TOOLS)
    call, again = final.choices[0].message.tool_calls[0], whole.choices[0].message.tool_calls[0]
    assert final.choices[0].finish_reason == whole.choices[0].finish_reason == "tool_calls"
    assert call.function.name == "get_weather" and call.id.startswith("call_")
    assert set(json.loads(call.function.arguments)) == {"location", "unit"}
    assert call.function.arguments == again.function.arguments and len(pieces) > 3
    assert final.usage == whole.usage and emu.requests[-1].tool_calls == 1


def test_a_turn_after_a_tool_result_is_answered_in_text(emu):
    turns = ASK + [
        {"role": "assistant", "tool_calls": [{"id": "call_1", "type": "function",
                                              "function": {"name": "get_weather", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
    ]
    reply = oai(emu).chat.completions.create(model=MODEL, messages=turns, tools=CHAT_TOOLS)
    assert reply.choices[0].message.tool_calls is None and reply.choices[0].message.content


# -- OpenAI Responses ----------------------------------------------------------------------------


def test_responses_json_and_stream_agree_and_carry_cache_and_reasoning(emu):
    client = oai(emu)
    usage = "input=900,cache_read=1152,output=40,reasoning=30"
    whole = client.responses.create(model="gpt-5", input="Summarise the bill.", extra_headers={USAGE: usage})
    with client.responses.stream(model="gpt-5", input="Summarise the bill.", extra_headers={USAGE: usage}) as stream:
        events = list(stream)
        final = stream.get_final_response()
    assert whole.id.startswith("resp_") and final.output_text == whole.output_text != ""
    for u in (whole.usage, final.usage):
        assert (u.input_tokens, u.input_tokens_details.cached_tokens) == (2052, 1152)
        assert (u.output_tokens, u.output_tokens_details.reasoning_tokens, u.total_tokens) == (40, 30, 2092)
    kinds = [e.type for e in events]
    assert kinds[:2] == ["response.created", "response.in_progress"] and kinds[-1] == "response.completed"
    assert "response.output_text.delta" in kinds and [e.sequence_number for e in events] == list(range(len(events)))
    assert whole.output[0].type == "reasoning"  # the answer reasoned, so a reasoning item comes first
    assert emu.requests[-1].usage == Tokens(input=900, cache_read=1152, output=40, reasoning=30)


def test_responses_function_call_streams_its_arguments(emu):
    with oai(emu).responses.stream(model="gpt-5", input="Weather in Oslo?", tools=RESPONSES_TOOLS) as stream:
        deltas = [e.delta for e in stream if e.type == "response.function_call_arguments.delta"]
        final = stream.get_final_response()
    call = final.output[-1]
    assert call.type == "function_call" and call.name == "get_weather" and call.call_id.startswith("call_")
    assert "".join(deltas) == call.arguments and set(json.loads(call.arguments)) == {"location", "unit"}


# -- Anthropic Messages --------------------------------------------------------------------------


def test_messages_json_reports_every_cache_bucket(emu):
    headers = {USAGE: "input=7,cache_read=100,cache_write_5m=30,cache_write_1h=20,output=12"}
    raw = claude(emu).messages.with_raw_response.create(model=CLAUDE, max_tokens=64, messages=ASK,
                                                         extra_headers=headers)
    message = raw.parse()
    assert raw.headers["request-id"].startswith("req_011C") and message.id.startswith("msg_01")
    u = message.usage
    assert (u.input_tokens, u.cache_read_input_tokens, u.cache_creation_input_tokens, u.output_tokens) == (7, 100, 50, 12)
    assert (u.cache_creation.ephemeral_5m_input_tokens, u.cache_creation.ephemeral_1h_input_tokens) == (30, 20)
    sent = emu.requests[-1].usage
    assert Tokens.from_anthropic(u.model_dump()) == sent == Tokens(7, 100, 30, 20, 12)


def test_messages_stream_with_tools_accumulates_final_message(emu):
    with claude(emu).messages.stream(model=CLAUDE, max_tokens=256, messages=ASK, tools=CLAUDE_TOOLS) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    record = emu.requests[-1]
    assert text and final.content[0].text == text and final.stop_reason == "tool_use"
    tool = final.content[1]
    assert tool.type == "tool_use" and tool.name == "get_weather" and set(tool.input) == {"location", "unit"}
    u = final.usage
    assert Tokens.from_anthropic(u.model_dump()) == record.usage == record.planned
    assert u.output_tokens == record.usage.output > 1  # message_delta's cumulative count, not message_start's


def test_messages_stream_event_order(emu):
    events = list(claude(emu).messages.create(model=CLAUDE, max_tokens=64, messages=ASK, stream=True))
    kinds = [e.type for e in events]
    assert kinds[:3] == ["message_start", "content_block_start", "content_block_delta"]
    assert kinds[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    assert events[0].message.usage.output_tokens == 1 and events[-2].usage.output_tokens > 1


def test_count_tokens_is_the_whole_prompt_of_the_same_message(emu):
    client = claude(emu)
    count = client.messages.count_tokens(model=CLAUDE, messages=ASK, tools=CLAUDE_TOOLS)
    usage = client.messages.create(model=CLAUDE, max_tokens=64, messages=ASK, tools=CLAUDE_TOOLS).usage
    assert count.input_tokens == (usage.input_tokens + usage.cache_read_input_tokens
                                  + usage.cache_creation_input_tokens)
    assert emu.requests[0].planned is None and emu.requests[0].usage is None  # counting bills nothing


def test_messages_without_anthropic_version_are_refused_as_the_api_does(emu):
    status, _, body = post(emu.url + "/v1/messages", {"model": CLAUDE, "max_tokens": 8, "messages": ASK},
                           {"x-api-key": "k"})
    error = json.loads(body)
    assert status == 400 and error["type"] == "error"
    assert error["error"] == {"type": "invalid_request_error", "message": "anthropic-version: header is required"}


def test_models_list_in_both_shapes(emu):
    assert "gpt-4o-mini" in [m.id for m in oai(emu).models.list()]
    assert CLAUDE in [m.id for m in claude(emu).models.list()]


# -- Gemini ---------------------------------------------------------------------------------------

GEMINI_ASK = {"contents": [{"role": "user", "parts": [{"text": "What does the ledger say?"}]}]}
KEY = {"x-goog-api-key": "test-key"}


def test_gemini_generate_content_counts_cached_inside_and_thoughts_beside(emu):
    url = f"{emu.gemini_url}/models/{GEMINI}:generateContent"
    status, headers, body = post(url, GEMINI_ASK, {**KEY, USAGE: "input=50,cache_read=30,output=20,reasoning=5"})
    reply = json.loads(body)
    assert status == 200 and headers["content-type"] == "application/json; charset=UTF-8"
    assert list(reply) == ["candidates", "usageMetadata", "modelVersion", "responseId"]
    candidate = reply["candidates"][0]
    assert candidate["finishReason"] == "STOP" and candidate["content"]["role"] == "model"
    assert reply["usageMetadata"] == {
        "promptTokenCount": 80, "candidatesTokenCount": 15, "totalTokenCount": 100, "cachedContentTokenCount": 30,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 80}],
        "cacheTokensDetails": [{"modality": "TEXT", "tokenCount": 30}], "thoughtsTokenCount": 5,
    }
    assert Tokens.from_prompt_including_cached(80, 30, 15, 5, reasoning_in_output=False) == emu.requests[-1].usage


def test_gemini_sse_stream_repeats_running_usage_and_ends_without_sentinel(emu):
    whole = json.loads(post(f"{emu.gemini_url}/models/{GEMINI}:generateContent", GEMINI_ASK, KEY)[2])
    status, headers, body = post(f"{emu.gemini_url}/models/{GEMINI}:streamGenerateContent?alt=sse", GEMINI_ASK, KEY)
    assert status == 200 and headers["content-type"] == "text/event-stream" and body.endswith(b"}\r\n\r\n")
    frames = [f for f in body.split(b"\r\n\r\n") if f]
    chunks = [json.loads(f.removeprefix(b"data: ")) for f in frames]
    counts = [c["usageMetadata"].get("candidatesTokenCount", 0) for c in chunks]
    assert len(chunks) > 1 and counts == sorted(counts) and chunks[-1]["usageMetadata"] == whole["usageMetadata"]
    assert [c["candidates"][0].get("finishReason") for c in chunks] == [None] * (len(chunks) - 1) + ["STOP"]
    text = "".join(c["candidates"][0]["content"]["parts"][0]["text"] for c in chunks)
    assert text == whole["candidates"][0]["content"]["parts"][0]["text"]
    assert b'{"candidates": [{"content": {"parts": [{"text": ' in frames[0]  # Google's one-line style


def test_gemini_function_call_and_missing_key(emu):
    tools = [{"functionDeclarations": [{"name": "get_weather", "parameters": PARAMS}]}]
    reply = json.loads(post(f"{emu.gemini_url}/models/{GEMINI}:generateContent", {**GEMINI_ASK, "tools": tools},
                            KEY)[2])
    call = reply["candidates"][0]["content"]["parts"][0]["functionCall"]
    assert call["name"] == "get_weather" and set(call["args"]) == {"location", "unit"}
    status, _, body = post(f"{emu.gemini_url}/models/{GEMINI}:generateContent", GEMINI_ASK, {})
    assert status == 403 and json.loads(body)["error"]["status"] == "PERMISSION_DENIED"


# -- faults ---------------------------------------------------------------------------------------


def fault(spec: str) -> dict[str, str]:
    return {"x-emulator-fault": spec}


def test_429_carries_retry_headers_and_maps_to_rate_limit_errors(emu):
    with pytest.raises(openai.RateLimitError) as caught:
        oai(emu).chat.completions.create(model=MODEL, messages=ASK, extra_headers=fault("429"))
    assert caught.value.response.headers["retry-after"] == "1"
    assert caught.value.response.headers["retry-after-ms"] == "1000"
    assert caught.value.body["code"] == "rate_limit_exceeded"
    with pytest.raises(anthropic.RateLimitError) as caught_claude:
        claude(emu).messages.create(model=CLAUDE, max_tokens=8, messages=ASK, extra_headers=fault("429"))
    assert caught_claude.value.body["error"]["type"] == "rate_limit_error"
    assert [(r.status, r.outcome, r.usage) for r in emu.requests] == [(429, "error", None)] * 2


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors_map_to_internal_server_errors(emu, status):
    with pytest.raises(openai.InternalServerError) as caught:
        oai(emu).chat.completions.create(model=MODEL, messages=ASK, extra_headers=fault(str(status)))
    assert caught.value.status_code == status
    with pytest.raises(anthropic.InternalServerError) as caught_claude:
        claude(emu).messages.create(model=CLAUDE, max_tokens=8, messages=ASK, extra_headers=fault(str(status)))
    assert caught_claude.value.status_code == status


def test_reset_before_headers_is_a_connection_error(emu):
    with pytest.raises(openai.APIConnectionError):
        oai(emu).chat.completions.create(model=MODEL, messages=ASK, extra_headers=fault("reset-before-headers"))
    assert (emu.requests[-1].status, emu.requests[-1].outcome) == (None, "reset-before-headers")


def test_reset_mid_stream_delivers_part_then_fails(emu):
    received = []
    with pytest.raises(openai.APIConnectionError):
        for chunk in oai(emu).chat.completions.create(model=MODEL, messages=ASK, stream=True,
                                                      stream_options={"include_usage": True},
                                                      extra_headers=fault("reset-mid-stream")):
            received.append(chunk)
    record = emu.requests[-1]
    assert received and record.outcome == "reset-mid-stream" and record.usage is None
    assert 0 < record.events_sent < record.events_total
    with pytest.raises(Exception) as caught, claude(emu).messages.stream(
        model=CLAUDE, max_tokens=64, messages=ASK, extra_headers=fault("reset-mid-stream")
    ) as stream:
        stream.get_final_message()
    # this SDK lets the transport's own error through mid-stream
    assert isinstance(caught.value, anthropic.APIConnectionError) or "reset" in str(caught.value)
    partial = emu.requests[-1]
    # message_start was sent: its input and cache counts are readable, the output count is not final yet
    assert partial.usage == Tokens(partial.planned.input, partial.planned.cache_read, partial.planned.cache_write_5m,
                                   partial.planned.cache_write_1h, output=1)


def test_malformed_and_truncated_bodies_fail_to_parse(emu):
    client = oai(emu)
    with pytest.raises(ValueError):  # json.JSONDecodeError
        list(client.chat.completions.create(model=MODEL, messages=ASK, stream=True, extra_headers=fault("malformed-sse")))
    with pytest.raises(ValueError):
        client.chat.completions.create(model=MODEL, messages=ASK, extra_headers=fault("truncated-json"))
    cut = list(client.chat.completions.create(model=MODEL, messages=ASK, stream=True,
                                              stream_options={"include_usage": True},
                                              extra_headers=fault("truncated-json")))
    assert cut and all(c.usage is None for c in cut)  # the stream just stops: no [DONE], no usage
    assert [r.outcome for r in emu.requests] == ["malformed", "truncated", "truncated"]


def test_wrong_content_type_is_refused_by_a_strict_client(emu):
    with pytest.raises(openai.APIResponseValidationError, match="text/html"):
        oai(emu, _strict_response_validation=True).chat.completions.create(
            model=MODEL, messages=ASK, extra_headers=fault("wrong-content-type"))


def test_slow_first_byte_times_the_client_out(emu):
    started = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        oai(emu, timeout=0.2).chat.completions.create(model=MODEL, messages=ASK,
                                                      extra_headers=fault("slow-first-byte:3"))
    assert time.monotonic() - started < 2.5  # the client gave up long before the 3 s first byte


def test_stall_mid_stream_and_latency_delay_delivery(emu):
    started, arrivals = time.monotonic(), []
    for _ in oai(emu).chat.completions.create(model=MODEL, messages=ASK, stream=True,
                                              extra_headers=fault("latency:100,stall-mid-stream:0.3")):
        arrivals.append(time.monotonic())
    # Only lower bounds hold on a loaded machine: a chunk can reach the client late (shrinking the
    # gap it sees around the stall), never before the emulator sent it.
    assert arrivals[0] - started >= 0.1
    assert arrivals[-1] - started >= 0.1 + 0.3
    assert emu.requests[-1].faults == ("latency:100", "stall-mid-stream:0.3")


def test_queued_fault_then_retry_is_two_attempts(emu):
    emu.enqueue_faults("429:20", path="/v1/chat/completions")
    client = openai.OpenAI(base_url=emu.openai_url, api_key="sk-test", max_retries=2)
    reply = client.chat.completions.create(model=MODEL, messages=ASK)
    first, second = emu.requests
    assert emu.count == 2 and (first.outcome, second.outcome) == ("error", "ok")
    assert first.usage is None and second.usage.output == reply.usage.completion_tokens


def test_counted_header_fault_fails_only_the_first_attempt(emu):
    client = anthropic.Anthropic(base_url=emu.anthropic_url, api_key="k", max_retries=1)
    client.messages.create(model=CLAUDE, max_tokens=8, messages=ASK, extra_headers=fault("529@1"))
    assert [r.status for r in emu.requests] == [529, 200]


def test_unknown_fault_is_refused_with_a_clear_message(emu):
    with pytest.raises(openai.BadRequestError, match="unknown fault 'explode'"):
        oai(emu).chat.completions.create(model=MODEL, messages=ASK, extra_headers=fault("explode"))


# -- records, scenarios, lifecycle -----------------------------------------------------------------


def test_records_keep_the_body_and_hide_secrets(emu):
    oai(emu).chat.completions.create(model=MODEL, messages=ASK)
    post(f"{emu.gemini_url}/models/{GEMINI}:generateContent?key=AIza-secret", GEMINI_ASK, {})
    chat, gemini = emu.requests
    assert chat.body == {"model": MODEL, "messages": ASK} and chat.headers["Authorization"] == "[redacted]"
    assert "sk-test-secret" not in repr(chat) and "AIza-secret" not in repr(gemini)
    assert gemini.query == "key=[redacted]" and gemini.model == GEMINI


def test_answers_are_seeded_by_prompt_or_scenario_header_and_named_scenarios_are_exact(emu):
    client = oai(emu)
    ask = lambda messages, **kw: client.chat.completions.create(model=MODEL, messages=messages, **kw)
    other = [{"role": "user", "content": "Something else entirely."}]
    assert ask(ASK).choices[0].message.content == ask(ASK).choices[0].message.content
    assert ask(ASK).choices[0].message.content != ask(other).choices[0].message.content
    pinned = {"x-emulator-scenario": "seed-7"}
    assert ask(ASK, extra_headers=pinned).usage == ask(other, extra_headers=pinned).usage
    emu.define_scenario("fixed", text="Fixed answer.", usage=Tokens(input=3, cache_read=2, output=2))
    named = {"x-emulator-scenario": "fixed"}
    reply = ask(ASK, extra_headers=named)
    assert reply.choices[0].message.content == "Fixed answer."
    assert (reply.usage.prompt_tokens, reply.usage.prompt_tokens_details.cached_tokens) == (5, 2)
    message = claude(emu).messages.create(model=CLAUDE, max_tokens=8, messages=ASK, extra_headers=named)
    assert message.content[0].text == "Fixed answer." and message.usage.input_tokens == 3


def test_sse_writes_cut_anywhere_but_usage_is_readable_only_once_its_event_is_complete():
    events = [b"data: a\n\n", "data: ü🐎\n\n".encode(), b"data: usage\n\n", b"data: [DONE]\n\n"]
    usage = Tokens(input=1, output=1)
    writes = segments(events, [None, None, usage, None], 3)
    assert b"".join(w for w, _, _ in writes) == b"".join(events) and writes[0][0] == events[0]
    for data, readable, done in writes:
        assert (readable is usage) == (done >= 3)


def test_async_emulator_serves_in_the_running_loop():
    async def scenario() -> tuple[str, int]:
        async with Emulator() as emu:
            client = openai.AsyncOpenAI(base_url=emu.openai_url, api_key="k", max_retries=0)
            stream = await client.chat.completions.create(model=MODEL, messages=ASK, stream=True)
            text = "".join([c.choices[0].delta.content or "" async for c in stream])
            return text, emu.count

    text, count = asyncio.run(scenario())
    assert text and count == 1


def test_standalone_server_answers_and_stops_on_sigterm():
    server = subprocess.Popen([sys.executable, "-m", "inferaudit.testing.emulator", "--port", "0"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        banner = server.stdout.readline()
        url = banner.split()[-1]
        status, _, body = post(url + "/v1/chat/completions", {"model": MODEL, "messages": ASK},
                               {"authorization": "Bearer k"})
        assert banner.startswith("inferaudit emulator listening on http://127.0.0.1:") and status == 200
        assert json.loads(body)["object"] == "chat.completion"
    finally:
        server.terminate()
        assert server.wait(timeout=5) == 0, server.stderr.read()
