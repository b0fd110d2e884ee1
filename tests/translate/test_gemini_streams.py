"""Gemini streams, from recorded upstream bytes to the client's official SDK stream machinery (chat, and through the hub)."""

from __future__ import annotations

import json

import pytest

from inferaudit.providers import PROTOCOLS
from inferaudit.providers.sse import encode_event
from inferaudit.translate import get
from inferaudit.usage import Tokens

TO_GEMINI = get("openai-chat", "gemini")
CLAUDE_ON_GEMINI = get("anthropic-messages", "gemini")
CODEX_ON_GEMINI = get("openai-responses", "gemini")
CHAT_REQUEST = {"model": "gemini-alias", "stream": True, "stream_options": {"include_usage": True},
                "messages": [{"role": "user", "content": "How many r's in strawberry?"}]}
ANTHROPIC_REQUEST = {"model": "gemini-alias", "max_tokens": 1000, "stream": True,
                     "messages": [{"role": "user", "content": "How many r's in strawberry?"}]}
REASONING = "gemini-stream-3-pro-reasoning.sse"
ANSWER = 'There are **3** "r"s in strawberry.\n\nHere is the breakdown: st**r**awbe**rr**y.'


def gemini_sse(*chunks: dict) -> bytes:
    """Chunks framed as Google frames them (``\\r\\n`` line ends, no end sentinel)."""
    return b"".join(encode_event(json.dumps(c), line_end="\r\n") for c in chunks)


def without_finish(stream: bytes) -> bytes:
    return b"\r\n\r\n".join(e for e in stream.split(b"\r\n\r\n") if b"finishReason" not in e)


def chat_chunks(openai_sdk, client_bytes: bytes, request: dict = CHAT_REQUEST) -> list:
    return list(openai_sdk(client_bytes).chat.completions.create(**request))


def test_reasoning_stream_reaches_the_openai_sdk_with_usage_converted(wire, openai_sdk, chunk_size):
    client_bytes = wire.translate_stream(TO_GEMINI.stream(CHAT_REQUEST), wire.recorded_bytes(REASONING), chunk_size)
    assert client_bytes.endswith(b"data: [DONE]\n\n")
    chunks = chat_chunks(openai_sdk, client_bytes)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert {c.id for c in chunks} == {"chatcmpl-dX6LadKVC7SZ28oPr9yJoQs"} and chunks[0].model == "gemini-3-pro-preview"
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == ANSWER
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["stop"]
    assert [c.usage for c in chunks[:-1]] == [None] * (len(chunks) - 1)
    last = chunks[-1]
    # the last cumulative usageMetadata: prompt 9, candidates 29 + thoughts 256
    assert last.choices == [] and (last.usage.prompt_tokens, last.usage.completion_tokens, last.usage.total_tokens) == (9, 285, 294)
    assert last.usage.completion_tokens_details.reasoning_tokens == 256


def test_every_translated_chunk_is_an_openai_chunk(wire):
    chat = pytest.importorskip("openai.types.chat")
    events = wire.events(wire.translate_stream(TO_GEMINI.stream(CHAT_REQUEST), wire.recorded_bytes(REASONING)))
    assert events[-1].data == "[DONE]"
    for event in events[:-1]:
        assert chat.ChatCompletionChunk.model_validate_json(event.data).object == "chat.completion.chunk"


def test_the_client_view_books_the_same_buckets_as_the_upstream_stream(wire, chunk_size):
    upstream = wire.recorded_bytes(REASONING)
    expected = PROTOCOLS["gemini"].stream_usage()
    for event in wire.events(upstream, chunk_size):
        expected.feed(event)
    seen = PROTOCOLS["openai-chat"].stream_usage()
    for event in wire.events(wire.translate_stream(TO_GEMINI.stream(CHAT_REQUEST), upstream, chunk_size)):
        seen.feed(event)
    assert seen.report().tokens == expected.report().tokens == Tokens(input=9, output=285, reasoning=256)
    assert seen.report().complete


def test_tool_call_stream_with_usage_after_the_finish_chunk(wire, openai_sdk):
    """A call arrives whole; a usage-only chunk after ``finishReason`` is the usage the client gets."""
    call = wire.recorded_json("gemini-3-pro-tool-call.json")
    late_usage = wire.events(wire.recorded_bytes("gemini-stream-usage-live.sse"))[0].data.encode()
    upstream = gemini_sse(call) + b"data: " + late_usage + b"\r\n\r\n"
    request = {k: v for k, v in CHAT_REQUEST.items() if k != "stream"}
    with openai_sdk(wire.translate_stream(TO_GEMINI.stream(CHAT_REQUEST), upstream)).chat.completions.stream(**request) as stream:
        completion = stream.get_final_completion()
    (tool_call,) = completion.choices[0].message.tool_calls
    assert (tool_call.function.name, json.loads(tool_call.function.arguments)) == ("weather", {"location": "San Francisco"})
    assert tool_call.id.startswith("call_") and completion.choices[0].finish_reason == "tool_calls"
    usage = completion.usage  # prompt 12 + tool-use prompt 65, 4 cached; candidates 71 + thoughts 89
    assert (usage.prompt_tokens, usage.prompt_tokens_details.cached_tokens, usage.completion_tokens) == (77, 4, 160)


def test_thought_parts_stream_as_reasoning_not_content(wire, openai_sdk):
    head = {"responseId": "r1", "modelVersion": "gemini-2.5-pro"}
    upstream = gemini_sse(
        {"candidates": [{"content": {"role": "model", "parts": [{"text": "Counting.", "thought": True}]}, "index": 0}], **head},
        {"candidates": [{"content": {"role": "model", "parts": [{"text": "Three."}]}, "finishReason": "STOP", "index": 0}],
         "usageMetadata": {"promptTokenCount": 4, "candidatesTokenCount": 2, "thoughtsTokenCount": 30}, **head})
    client_bytes = wire.translate_stream(TO_GEMINI.stream(CHAT_REQUEST), upstream)
    deltas = [json.loads(e[6:])["choices"][0]["delta"] for e in client_bytes.split(b"\n\n") if e.startswith(b"data: {") and b'"delta"' in e]
    assert {"reasoning_content": "Counting."} in deltas and {"content": "Three."} in deltas
    assert "".join(c.choices[0].delta.content or "" for c in chat_chunks(openai_sdk, client_bytes) if c.choices) == "Three."


def test_no_usage_chunk_for_a_client_that_did_not_ask(wire, openai_sdk):
    request = {k: v for k, v in CHAT_REQUEST.items() if k != "stream_options"}
    client_bytes = wire.translate_stream(TO_GEMINI.stream(request), wire.recorded_bytes(REASONING))
    assert b'"usage"' not in client_bytes
    assert all(c.choices and c.usage is None for c in chat_chunks(openai_sdk, client_bytes, request))


def test_a_stream_cut_before_its_finish_reason_is_an_openai_sdk_error(wire, openai_sdk):
    openai = pytest.importorskip("openai")
    client_bytes = wire.translate_stream(TO_GEMINI.stream(CHAT_REQUEST), without_finish(wire.recorded_bytes(REASONING)))
    assert b"[DONE]" not in client_bytes and b'"finish_reason":"stop"' not in client_bytes
    with pytest.raises(openai.APIError, match="ended before it finished"):
        chat_chunks(openai_sdk, client_bytes)


def test_a_gemini_error_object_mid_stream_is_an_openai_sdk_error(wire, openai_sdk):
    openai = pytest.importorskip("openai")
    first = wire.events(wire.recorded_bytes(REASONING))[0].data.encode()
    error = {"error": {"code": 503, "message": "The model is overloaded. Please try again later.", "status": "UNAVAILABLE"}}
    upstream = b"data: " + first + b"\r\n\r\n" + gemini_sse(error)
    stream = TO_GEMINI.stream(CHAT_REQUEST)
    client_bytes = wire.translate_stream(stream, upstream)
    assert stream.close() == b"" and stream.error("late") == b""  # nothing after the error event
    seen = []
    with pytest.raises(openai.APIError, match="The model is overloaded"):
        for chunk in openai_sdk(client_bytes).chat.completions.create(**CHAT_REQUEST):
            seen.extend(c.delta.content for c in chunk.choices if c.delta.content)
    assert "".join(seen) == 'There are **3** "r"s in'


def test_streamed_function_call_arguments_end_in_an_error_not_a_call_missing_them(wire, openai_sdk):
    openai = pytest.importorskip("openai")
    client_bytes = wire.translate_stream(TO_GEMINI.stream(CHAT_REQUEST), wire.recorded_bytes("gemini-stream-vertex-streamed-args.sse"))
    with pytest.raises(openai.APIError, match="streamed function-call arguments"):
        chat_chunks(openai_sdk, client_bytes)


# -- through the chat hub -----------------------------------------------------------------------


def test_claude_code_stream_on_gemini_reaches_the_anthropic_sdk(wire, anthropic_sdk, chunk_size):
    client_bytes = wire.translate_stream(CLAUDE_ON_GEMINI.stream(ANTHROPIC_REQUEST), wire.recorded_bytes(REASONING), chunk_size)
    kinds = [e.event for e in wire.events(client_bytes)]
    assert kinds[0] == "message_start" and kinds[-2:] == ["message_delta", "message_stop"]
    request = {k: v for k, v in ANTHROPIC_REQUEST.items() if k != "stream"}
    with anthropic_sdk(client_bytes).messages.stream(**request) as stream:
        message = stream.get_final_message()
    assert message.content[0].text == ANSWER and message.stop_reason == "end_turn"
    assert (message.usage.input_tokens, message.usage.cache_read_input_tokens, message.usage.output_tokens) == (9, 0, 285)
    seen = PROTOCOLS["anthropic-messages"].stream_usage()
    for event in wire.events(client_bytes):
        seen.feed(event)
    assert seen.report().tokens == Tokens(input=9, output=285, reasoning=256)


def test_claude_code_gets_the_gemini_tool_call_as_a_tool_use_block(wire, anthropic_sdk):
    upstream = gemini_sse(wire.recorded_json("gemini-3-pro-tool-call.json"))
    client_bytes = wire.translate_stream(CLAUDE_ON_GEMINI.stream(ANTHROPIC_REQUEST), upstream)
    request = {k: v for k, v in ANTHROPIC_REQUEST.items() if k != "stream"}
    with anthropic_sdk(client_bytes).messages.stream(**request) as stream:
        message = stream.get_final_message()
    (call,) = message.content
    assert (call.type, call.name, call.input, message.stop_reason) == ("tool_use", "weather", {"location": "San Francisco"}, "tool_use")


def test_cut_and_failed_streams_reach_the_anthropic_sdk_as_errors(wire, anthropic_sdk):
    anthropic = pytest.importorskip("anthropic")
    request = {k: v for k, v in ANTHROPIC_REQUEST.items() if k != "stream"}
    cut = wire.translate_stream(CLAUDE_ON_GEMINI.stream(ANTHROPIC_REQUEST), without_finish(wire.recorded_bytes(REASONING)))
    assert b"message_stop" not in cut
    with pytest.raises(anthropic.APIError, match="ended before it finished"), anthropic_sdk(cut).messages.stream(**request) as s:
        s.get_final_message()
    stream = CLAUDE_ON_GEMINI.stream(ANTHROPIC_REQUEST)
    failed = stream.feed(wire.events(wire.recorded_bytes(REASONING))[0]) + stream.error("upstream stream failed: ClientPayloadError")
    assert stream.close() == b""
    with pytest.raises(anthropic.APIError, match="ClientPayloadError"), anthropic_sdk(failed).messages.stream(**request) as s:
        s.get_final_message()


def test_codex_stream_on_gemini_completes_a_response(wire, openai_sdk):
    client_bytes = wire.translate_stream(CODEX_ON_GEMINI.stream({"model": "gemini-alias", "input": "r's?", "stream": True}),
                                         wire.recorded_bytes(REASONING))
    with openai_sdk(client_bytes).responses.stream(model="gemini-alias", input="r's?") as stream:
        response = stream.get_final_response()
    assert response.status == "completed" and response.output_text == ANSWER
    assert (response.usage.input_tokens, response.usage.output_tokens, response.usage.output_tokens_details.reasoning_tokens) == (9, 285, 256)
