"""Streams both ways, from recorded upstream bytes to the client's official SDK stream machinery."""

from __future__ import annotations

import json

import pytest

from inferaudit.providers import PROTOCOLS
from inferaudit.providers.sse import encode_event
from inferaudit.translate import get
from inferaudit.usage import Tokens

TO_OPENAI = get("anthropic-messages", "openai-chat")  # Anthropic client, OpenAI upstream: OpenAI chunks -> Anthropic events
TO_ANTHROPIC = get("openai-chat", "anthropic-messages")  # OpenAI client, Anthropic upstream: Anthropic events -> OpenAI chunks
OPENAI_STREAMS = ("openai-chat-stream-llamacpp-spec.sse", "openai-chat-stream-azure-gpt-5-nano.sse",
                  "openai-chat-stream-vllm-spec.sse", "openai-chat-stream-gpt-3.5-trace.sse")
ANTHROPIC_REQUEST = {"model": "local", "max_tokens": 1000, "stream": True, "messages": [{"role": "user", "content": "go"}]}
OPENAI_REQUEST = {"model": "claude", "stream": True, "stream_options": {"include_usage": True},
                  "messages": [{"role": "user", "content": "go"}]}


def without(stream: bytes, *needles: bytes) -> bytes:
    """The recorded stream minus the events that contain any of ``needles``."""
    events = stream.split(b"\n\n")
    return b"\n\n".join(e for e in events if not any(n in e for n in needles))


def anthropic_events(client_bytes: bytes, wire) -> list[dict]:
    """Every translated event, each checked against the anthropic SDK's own event types."""
    adapter = pytest.importorskip("pydantic").TypeAdapter(pytest.importorskip("anthropic.types").RawMessageStreamEvent)
    payloads = []
    for event in wire.events(client_bytes):
        payload = json.loads(event.data)
        assert event.event == payload["type"]
        adapter.validate_python(payload)
        payloads.append(payload)
    return payloads


def final_message(anthropic_sdk, client_bytes: bytes):
    with anthropic_sdk(client_bytes).messages.stream(**{k: v for k, v in ANTHROPIC_REQUEST.items() if k != "stream"}) as stream:
        return stream.get_final_message()


# -- OpenAI upstream, Anthropic client ------------------------------------------------------------


def test_llamacpp_tool_call_stream_reaches_the_anthropic_sdk(wire, anthropic_sdk, chunk_size):
    upstream = wire.recorded_bytes("openai-chat-stream-llamacpp-spec.sse")
    client_bytes = wire.translate_stream(TO_OPENAI.stream(ANTHROPIC_REQUEST), upstream, chunk_size)
    kinds = [e["type"] for e in anthropic_events(client_bytes, wire)]
    assert kinds == ["message_start", "content_block_start", "content_block_delta", "content_block_delta",
                     "content_block_stop", "message_delta", "message_stop"]
    message = final_message(anthropic_sdk, client_bytes)
    (call,) = message.content  # the reasoning text is not shown to a client that did not ask for thinking
    assert (call.type, call.id, call.name) == ("tool_use", "hjWjlmUvP5Hu4eMnI1YBsnhDb4tR2Gp9", "run_code")
    assert call.input == {"language": "fsharp", "code": 'printfn "%d" 42'}
    assert message.stop_reason == "tool_use"
    # the usage chunk came after finish_reason: 808 prompt tokens of which 804 cached
    assert (message.usage.input_tokens, message.usage.cache_read_input_tokens, message.usage.output_tokens) == (4, 804, 665)
    assert message.id == "msg_nFCxRKKHfmmnVXEHbeKtPcEqHXBZvQCr"


def test_reasoning_streams_as_a_thinking_block_when_the_client_asked(wire, anthropic_sdk):
    request = {**ANTHROPIC_REQUEST, "thinking": {"type": "adaptive"}}
    client_bytes = wire.translate_stream(TO_OPENAI.stream(request), wire.recorded_bytes("openai-chat-stream-llamacpp-spec.sse"))
    anthropic_events(client_bytes, wire)
    message = final_message(anthropic_sdk, client_bytes)
    assert [b.type for b in message.content] == ["thinking", "tool_use"]
    assert message.content[0].thinking == "The script fails because"


def test_azure_stream_opening_with_an_idless_chunk_and_reasoning_usage(wire, anthropic_sdk, chunk_size):
    upstream = wire.recorded_bytes("openai-chat-stream-azure-gpt-5-nano.sse")
    client_bytes = wire.translate_stream(TO_OPENAI.stream(ANTHROPIC_REQUEST), upstream, chunk_size)
    events = anthropic_events(client_bytes, wire)
    assert events[0]["message"]["id"] == "msg_CYPS1lijGoK8gd9lYzY3r9Sx50nbt"  # not the empty id of the filter chunk
    assert events[0]["message"]["model"] == "gpt-5-nano-2025-08-07"
    message = final_message(anthropic_sdk, client_bytes)
    assert message.content[0].text == "Capital of Denmark."
    assert (message.usage.input_tokens, message.usage.output_tokens, message.usage.output_tokens_details.thinking_tokens) == (15, 78, 64)
    assert message.stop_reason == "end_turn"


@pytest.mark.parametrize("name", OPENAI_STREAMS)
def test_the_client_view_books_the_same_buckets_as_the_upstream_stream(wire, name, chunk_size):
    """The translated events, read by the ledger's Anthropic reader, give the upstream's exact buckets."""
    upstream = wire.recorded_bytes(name)
    upstream_usage = PROTOCOLS["openai-chat"].stream_usage()
    for event in wire.events(upstream, chunk_size):
        upstream_usage.feed(event)
    client_usage = PROTOCOLS["anthropic-messages"].stream_usage()
    for event in wire.events(wire.translate_stream(TO_OPENAI.stream(ANTHROPIC_REQUEST), upstream, chunk_size)):
        client_usage.feed(event)
    expected, seen = upstream_usage.report(), client_usage.report()
    assert seen.tokens == expected.tokens and seen.tokens is not None and seen.tokens.prompt > 0
    assert (seen.tool_calls, seen.complete) == (expected.tool_calls, True)


def test_stream_without_usage_still_ends_as_a_message(wire, anthropic_sdk):
    upstream = without(wire.recorded_bytes("openai-chat-stream-gpt-3.5-trace.sse"), b'"choices":[]')
    client_bytes = wire.translate_stream(TO_OPENAI.stream(ANTHROPIC_REQUEST), upstream)
    message_delta = [e for e in anthropic_events(client_bytes, wire) if e["type"] == "message_delta"]
    assert message_delta == [{"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                              "usage": {"output_tokens": 0}}]
    message = final_message(anthropic_sdk, client_bytes)
    assert (message.content[0].text, message.usage.input_tokens) == ("Hi, how are you?", 0)


def test_cut_openai_stream_ends_in_an_anthropic_error_not_a_whole_message(wire, anthropic_sdk):
    anthropic = pytest.importorskip("anthropic")
    upstream = without(wire.recorded_bytes("openai-chat-stream-vllm-spec.sse"), b'"finish_reason":"stop"', b"[DONE]", b'"usage"')
    client_bytes = wire.translate_stream(TO_OPENAI.stream(ANTHROPIC_REQUEST), upstream)
    assert b"message_stop" not in client_bytes and client_bytes.endswith(b"\n\n")
    with pytest.raises(anthropic.APIError, match="ended before it finished"):
        final_message(anthropic_sdk, client_bytes)


def test_openai_error_chunk_and_gateway_failure_become_anthropic_error_events(wire, anthropic_sdk):
    anthropic = pytest.importorskip("anthropic")
    stream = TO_OPENAI.stream(ANTHROPIC_REQUEST)
    head = stream.feed(wire.events(wire.recorded_bytes("openai-chat-stream-gpt-3.5-trace.sse"))[1])
    failed = stream.feed(wire.events(encode_event(json.dumps({"error": {"message": "model crashed", "type": "server_error"}})))[0])
    assert stream.close() == b"" and stream.error("again") == b""  # nothing after the error event
    with pytest.raises(anthropic.APIError, match="model crashed"):
        final_message(anthropic_sdk, head + failed)
    mid = TO_OPENAI.stream(ANTHROPIC_REQUEST)
    assert json.loads(wire.events(mid.error("upstream stream failed: ClientPayloadError"))[0].data)["error"]["type"] == "api_error"


# -- Anthropic upstream, OpenAI client ------------------------------------------------------------


def openai_chunks(openai_sdk, client_bytes: bytes, request: dict = OPENAI_REQUEST) -> list:
    return list(openai_sdk(client_bytes).chat.completions.create(**request))


def test_anthropic_tool_use_stream_reaches_the_openai_sdk(wire, openai_sdk, chunk_size):
    upstream = wire.recorded_bytes("anthropic-stream-haiku-tool-use.sse")
    client_bytes = wire.translate_stream(TO_ANTHROPIC.stream(OPENAI_REQUEST), upstream, chunk_size)
    assert client_bytes.endswith(b"data: [DONE]\n\n")
    chunks = openai_chunks(openai_sdk, client_bytes)
    assert {c.id for c in chunks} == {"chatcmpl-01K2JbSUMYhez5RHoK9ZCj9U"}
    assert chunks[0].choices[0].delta.role == "assistant"
    calls = [t for c in chunks if c.choices for t in (c.choices[0].delta.tool_calls or [])]
    assert (calls[0].index, calls[0].id, calls[0].function.name) == (0, "toolu_01KFbKqPYSuAKujiL6mTfzYA", "json")
    arguments = "".join(t.function.arguments or "" for t in calls)
    assert json.loads(arguments) == {"elements": [{"location": "San Francisco", "temperature": 58, "condition": "sunny"}]}
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["tool_calls"]
    assert [c.usage for c in chunks[:-1]] == [None] * (len(chunks) - 1)  # as OpenAI: null until the usage chunk
    last = chunks[-1]
    assert last.choices == [] and (last.usage.prompt_tokens, last.usage.completion_tokens, last.usage.total_tokens) == (849, 47, 896)


def test_openai_sdk_stream_helper_accumulates_the_translated_tool_call(wire, openai_sdk):
    client_bytes = wire.translate_stream(TO_ANTHROPIC.stream(OPENAI_REQUEST), wire.recorded_bytes("anthropic-stream-haiku-tool-use.sse"))
    request = {k: v for k, v in OPENAI_REQUEST.items() if k != "stream"}
    with openai_sdk(client_bytes).chat.completions.stream(**request) as stream:
        completion = stream.get_final_completion()
    (call,) = completion.choices[0].message.tool_calls
    assert (call.function.name, json.loads(call.function.arguments)["elements"][0]["temperature"]) == ("json", 58)
    assert completion.usage.completion_tokens == 47


def test_no_usage_chunk_for_a_client_that_did_not_ask(wire, openai_sdk):
    request = {k: v for k, v in OPENAI_REQUEST.items() if k != "stream_options"}
    client_bytes = wire.translate_stream(TO_ANTHROPIC.stream(request), wire.recorded_bytes("anthropic-stream-haiku-tool-use.sse"))
    chunks = openai_chunks(openai_sdk, client_bytes, request)
    assert all(c.choices for c in chunks) and all(c.usage is None for c in chunks)
    assert b'"usage"' not in client_bytes


def test_server_tool_stream_keeps_text_and_puts_cache_counts_back_into_the_prompt(wire, openai_sdk, chunk_size):
    upstream = wire.recorded_bytes("anthropic-stream-server-tool-cache.sse")
    chunks = openai_chunks(openai_sdk, wire.translate_stream(TO_ANTHROPIC.stream(OPENAI_REQUEST), upstream, chunk_size))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.endswith(" sum of the squares of the numbers 1 through 12 is **650**.")
    assert not any(c.choices and c.choices[0].delta.tool_calls for c in chunks)  # the code ran at Anthropic
    usage = chunks[-1].usage
    # the final message_delta restates input 6, written 3337, read 6289 (replacing message_start's 2 / 3068 / 0)
    assert (usage.prompt_tokens, usage.prompt_tokens_details.cached_tokens, usage.prompt_tokens_details.cache_write_tokens) == (
        6 + 6289 + 3337, 6289, 3337)
    assert usage.completion_tokens == 198
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["stop"]


def test_anthropic_overloaded_mid_stream_is_an_openai_sdk_error(wire, openai_sdk):
    openai = pytest.importorskip("openai")
    client_bytes = wire.translate_stream(TO_ANTHROPIC.stream(OPENAI_REQUEST), wire.recorded_bytes("anthropic-stream-overloaded.sse"))
    seen = []
    with pytest.raises(openai.APIError, match="Overloaded"):
        for chunk in openai_sdk(client_bytes).chat.completions.create(**OPENAI_REQUEST):
            seen.extend(c.delta.content for c in chunk.choices if c.delta.content)
    assert "".join(seen) == "Hello! I"
    assert b"[DONE]" not in client_bytes


def test_cut_anthropic_stream_is_an_openai_sdk_error(wire, openai_sdk):
    openai = pytest.importorskip("openai")
    upstream = without(wire.recorded_bytes("anthropic-stream-haiku-tool-use.sse"), b"message_delta", b"message_stop")
    client_bytes = wire.translate_stream(TO_ANTHROPIC.stream(OPENAI_REQUEST), upstream)
    with pytest.raises(openai.APIError, match="ended before it finished"):
        openai_chunks(openai_sdk, client_bytes)


def test_every_translated_chunk_is_an_openai_chunk(wire):
    chat = pytest.importorskip("openai.types.chat")
    for name in ("anthropic-stream-haiku-tool-use.sse", "anthropic-stream-server-tool-cache.sse"):
        client_bytes = wire.translate_stream(TO_ANTHROPIC.stream(OPENAI_REQUEST), wire.recorded_bytes(name))
        events = wire.events(client_bytes)
        assert events[-1].data == "[DONE]"
        for event in events[:-1]:
            chunk = chat.ChatCompletionChunk.model_validate_json(event.data)
            assert chunk.object == "chat.completion.chunk" and chunk.model == json.loads(events[0].data)["model"]


def test_usage_read_back_from_the_openai_view_matches_anthropic_buckets(wire):
    """Read by the ledger's chat reader, the translated stream has the upstream's prompt, cached and output counts."""
    upstream = wire.recorded_bytes("anthropic-stream-haiku-tool-use.sse")
    seen = PROTOCOLS["openai-chat"].stream_usage()
    for event in wire.events(wire.translate_stream(TO_ANTHROPIC.stream(OPENAI_REQUEST), upstream)):
        seen.feed(event)
    report = seen.report()
    assert report.tokens == Tokens(input=849, output=47) and (report.tool_calls, report.complete) == (1, True)
