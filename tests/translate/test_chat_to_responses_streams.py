"""Responses streams, from upstream bytes to the official SDKs' stream machinery (chat, and Anthropic through the hub).

Recorded streams: tests/providers/data (a gpt-5.1 function call, a quota error) and
./data/openai-responses-stream-codex-max-text.sse (gpt-5.1-codex-max text). The reasoning,
parallel-call, incomplete and whole-item streams are composed here in the recorded events' shapes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inferaudit.providers import PROTOCOLS
from inferaudit.providers.sse import encode_event
from inferaudit.translate import get
from inferaudit.usage import Tokens

TO_RESPONSES = get("openai-chat", "openai-responses")
CLAUDE_ON_RESPONSES = get("anthropic-messages", "openai-responses")
CALL = "openai-responses-stream-gpt-5.1-function-call.sse"
QUOTA = "openai-responses-stream-error-quota.sse"
TEXT = "openai-responses-stream-codex-max-text.sse"
CHAT_REQUEST = {"model": "gpt-5.1", "stream": True, "stream_options": {"include_usage": True},
                "messages": [{"role": "user", "content": "Weather in Beijing?"}]}
ANTHROPIC_REQUEST = {"model": "gpt-5.1", "max_tokens": 1000, "stream": True,
                     "messages": [{"role": "user", "content": "Weather in Beijing?"}]}


def local(name: str) -> bytes:
    return (Path(__file__).parent / "data" / name).read_bytes()


def responses_sse(*events: dict) -> bytes:
    """Events framed as OpenAI frames them (an ``event:`` line named like ``type``), with sequence numbers."""
    return b"".join(encode_event(json.dumps({**e, "sequence_number": n}), e["type"]) for n, e in enumerate(events))


def response(status: str, output: list, usage: dict | None = None, **extra) -> dict:
    return {"id": "resp_0c1d", "object": "response", "created_at": 1765552663, "status": status, "error": None,
            "incomplete_details": None, "model": "o3-pro-2025-06-10", "output": output, "usage": usage, **extra}


USAGE = {"input_tokens": 2092, "input_tokens_details": {"cached_tokens": 1792}, "output_tokens": 340,
         "output_tokens_details": {"reasoning_tokens": 300}, "total_tokens": 2432}
REASONING_ITEM = {"id": "rs_1", "type": "reasoning", "summary": []}
MESSAGE_ITEM = {"id": "msg_1", "type": "message", "status": "in_progress", "content": [], "role": "assistant"}


def reasoning_then_text(terminal: str = "response.completed", status: str = "completed", details=None) -> bytes:
    text_done = {**MESSAGE_ITEM, "status": status, "content": [
        {"type": "output_text", "annotations": [], "logprobs": [], "text": "It is 18C."}]}
    summary = [{"type": "summary_text", "text": "**Checking**"}, {"type": "summary_text", "text": "Sunny."}]
    return responses_sse(
        {"type": "response.created", "response": response("in_progress", [])},
        {"type": "response.output_item.added", "output_index": 0, "item": REASONING_ITEM},
        {"type": "response.reasoning_summary_part.added", "item_id": "rs_1", "output_index": 0, "summary_index": 0,
         "part": {"type": "summary_text", "text": ""}},
        {"type": "response.reasoning_summary_text.delta", "item_id": "rs_1", "output_index": 0, "summary_index": 0, "delta": "**Check"},
        {"type": "response.reasoning_summary_text.delta", "item_id": "rs_1", "output_index": 0, "summary_index": 0, "delta": "ing**"},
        {"type": "response.reasoning_summary_text.delta", "item_id": "rs_1", "output_index": 0, "summary_index": 1, "delta": "Sunny."},
        {"type": "response.output_item.done", "output_index": 0, "item": {**REASONING_ITEM, "summary": summary}},
        {"type": "response.output_item.added", "output_index": 1, "item": MESSAGE_ITEM},
        {"type": "response.output_text.delta", "item_id": "msg_1", "output_index": 1, "content_index": 0, "delta": "It is", "logprobs": []},
        {"type": "response.output_text.delta", "item_id": "msg_1", "output_index": 1, "content_index": 0, "delta": " 18C.", "logprobs": []},
        {"type": "response.output_item.done", "output_index": 1, "item": text_done},
        {"type": terminal, "response": response(status, [{**REASONING_ITEM, "summary": summary}, text_done], USAGE,
                                                 incomplete_details=details)},
    )


def chat_chunks(openai_sdk, client_bytes: bytes, request: dict = CHAT_REQUEST) -> list:
    return list(openai_sdk(client_bytes).chat.completions.create(**request))


def final_completion(openai_sdk, client_bytes: bytes, request: dict = CHAT_REQUEST):
    body = {k: v for k, v in request.items() if k != "stream"}
    with openai_sdk(client_bytes).chat.completions.stream(**body) as stream:
        return stream.get_final_completion()


def test_function_call_stream_reaches_the_openai_sdk(wire, openai_sdk, chunk_size):
    client_bytes = wire.translate_stream(TO_RESPONSES.stream(CHAT_REQUEST), wire.recorded_bytes(CALL), chunk_size)
    assert client_bytes.endswith(b"data: [DONE]\n\n")
    chunks = chat_chunks(openai_sdk, client_bytes)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert {c.id for c in chunks} == {"chatcmpl-0775572d10a16b66006a8d85285ef487d2ae865d3657af7276"}
    opening = chunks[1].choices[0].delta.tool_calls[0]
    assert (opening.index, opening.id, opening.type, opening.function.name) == (0, "call_2FQdm3Br7Qb35YUBSkDR7kue", "function", "get_weather")
    pieces = [c.choices[0].delta.tool_calls[0].function.arguments for c in chunks[2:] if c.choices and c.choices[0].delta.tool_calls]
    assert pieces == ['{"', "city", '":"', "Be", "ijing", '"}']  # the upstream's own pieces, in order
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["tool_calls"]
    assert [c.usage for c in chunks[:-1]] == [None] * (len(chunks) - 1)
    assert chunks[-1].choices == [] and (chunks[-1].usage.prompt_tokens, chunks[-1].usage.completion_tokens) == (45, 25)

    completion = final_completion(openai_sdk, client_bytes)
    (call,) = completion.choices[0].message.tool_calls
    assert (call.id, json.loads(call.function.arguments)) == ("call_2FQdm3Br7Qb35YUBSkDR7kue", {"city": "Beijing"})


def test_recorded_text_stream_reaches_the_openai_sdk(wire, openai_sdk, chunk_size):
    client_bytes = wire.translate_stream(TO_RESPONSES.stream(CHAT_REQUEST), local(TEXT), chunk_size)
    chunks = chat_chunks(openai_sdk, client_bytes)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "The final result is **570**."
    assert chunks[0].model == "gpt-5.1-codex-max" and chunks[0].created == 1765552663
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["stop"]
    usage = chunks[-1].usage
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (299, 12, 311)


def test_reasoning_summary_streams_beside_the_content(openai_sdk, wire, chunk_size):
    client_bytes = wire.translate_stream(TO_RESPONSES.stream(CHAT_REQUEST), reasoning_then_text(), chunk_size)
    chunks = chat_chunks(openai_sdk, client_bytes)
    deltas = [c.choices[0].delta for c in chunks if c.choices]
    assert "".join((d.model_extra or {}).get("reasoning_content") or "" for d in deltas) == "**Checking**\n\nSunny."
    assert "".join(d.content or "" for d in deltas) == "It is 18C."
    usage = chunks[-1].usage  # exactly the terminal event's usage, renamed
    assert (usage.prompt_tokens, usage.prompt_tokens_details.cached_tokens, usage.completion_tokens) == (2092, 1792, 340)
    assert usage.completion_tokens_details.reasoning_tokens == 300


@pytest.mark.parametrize("upstream", ["call", "text", "reasoning"])
def test_the_client_view_books_the_same_buckets_as_the_upstream_stream(wire, upstream, chunk_size):
    raw = {"call": wire.recorded_bytes(CALL), "text": local(TEXT), "reasoning": reasoning_then_text()}[upstream]
    expected = PROTOCOLS["openai-responses"].stream_usage()
    for event in wire.events(raw, chunk_size):
        expected.feed(event)
    seen = PROTOCOLS["openai-chat"].stream_usage()
    for event in wire.events(wire.translate_stream(TO_RESPONSES.stream(CHAT_REQUEST), raw, chunk_size)):
        seen.feed(event)
    assert seen.report().tokens == expected.report().tokens
    assert seen.report().complete and expected.report().complete
    if upstream == "reasoning":
        assert seen.report().tokens == Tokens(input=300, cache_read=1792, output=340, reasoning=300)


def test_every_translated_chunk_is_an_openai_chunk(wire):
    chat = pytest.importorskip("openai.types.chat")
    for raw in (wire.recorded_bytes(CALL), local(TEXT), reasoning_then_text()):
        events = wire.events(wire.translate_stream(TO_RESPONSES.stream(CHAT_REQUEST), raw))
        assert events[-1].data == "[DONE]"
        for event in events[:-1]:
            assert chat.ChatCompletionChunk.model_validate_json(event.data).object == "chat.completion.chunk"


def test_no_usage_chunk_unless_the_client_asked(wire, openai_sdk):
    request = {k: v for k, v in CHAT_REQUEST.items() if k != "stream_options"}
    chunks = chat_chunks(openai_sdk, wire.translate_stream(TO_RESPONSES.stream(request), local(TEXT)), request)
    assert all(c.choices for c in chunks) and all(c.usage is None for c in chunks)
    assert b'"usage"' not in wire.translate_stream(TO_RESPONSES.stream(request), local(TEXT))


def test_an_incomplete_response_finishes_with_length(wire, openai_sdk):
    openai = pytest.importorskip("openai")
    raw = reasoning_then_text("response.incomplete", "incomplete", {"reason": "max_output_tokens"})
    with pytest.raises(openai.LengthFinishReasonError) as cut_short:  # the SDK's own verdict on a length finish
        final_completion(openai_sdk, wire.translate_stream(TO_RESPONSES.stream(CHAT_REQUEST), raw))
    completion = cut_short.value.completion
    assert completion.choices[0].finish_reason == "length" and completion.choices[0].message.content == "It is 18C."
    assert completion.usage.completion_tokens == 340


def test_parallel_calls_get_their_own_indexes(wire, openai_sdk):
    calls = [{"id": f"fc_{n}", "type": "function_call", "status": "in_progress", "arguments": "", "call_id": f"call_{n}",
              "name": "get_weather"} for n in (1, 2)]
    done = [{**c, "status": "completed", "arguments": json.dumps({"city": city})} for c, city in zip(calls, ("Paris", "Berlin"))]
    raw = responses_sse(
        {"type": "response.created", "response": response("in_progress", [])},
        {"type": "response.output_item.added", "output_index": 0, "item": calls[0]},
        {"type": "response.function_call_arguments.delta", "item_id": "fc_1", "output_index": 0, "delta": '{"city": '},
        {"type": "response.function_call_arguments.delta", "item_id": "fc_1", "output_index": 0, "delta": '"Paris"}'},
        {"type": "response.function_call_arguments.done", "item_id": "fc_1", "output_index": 0, "name": "get_weather",
         "arguments": done[0]["arguments"]},
        {"type": "response.output_item.done", "output_index": 0, "item": done[0]},
        # an upstream that gives the second call's arguments only whole
        {"type": "response.output_item.added", "output_index": 1, "item": calls[1]},
        {"type": "response.output_item.done", "output_index": 1, "item": done[1]},
        {"type": "response.completed", "response": response("completed", done, USAGE)},
    )
    completion = final_completion(openai_sdk, wire.translate_stream(TO_RESPONSES.stream(CHAT_REQUEST), raw))
    assert [(c.id, json.loads(c.function.arguments)["city"]) for c in completion.choices[0].message.tool_calls] == [
        ("call_1", "Paris"), ("call_2", "Berlin")]
    assert completion.choices[0].finish_reason == "tool_calls"


def test_an_item_given_only_whole_still_reaches_the_client(wire, openai_sdk):
    text_done = {**MESSAGE_ITEM, "status": "completed", "content": [{"type": "output_text", "annotations": [], "text": "Whole."}]}
    raw = responses_sse({"type": "response.created", "response": response("in_progress", [])},
                        {"type": "response.completed", "response": response("completed", [text_done], USAGE)})
    completion = final_completion(openai_sdk, wire.translate_stream(TO_RESPONSES.stream(CHAT_REQUEST), raw))
    assert completion.choices[0].message.content == "Whole." and completion.choices[0].finish_reason == "stop"


def test_an_error_event_is_the_openai_clients_error(wire, openai_sdk):
    openai = pytest.importorskip("openai")
    client_bytes = wire.translate_stream(TO_RESPONSES.stream(CHAT_REQUEST), wire.recorded_bytes(QUOTA))
    assert b"finish_reason\":\"" not in client_bytes and b"[DONE]" not in client_bytes
    with pytest.raises(openai.APIError, match="You exceeded your current quota"):
        chat_chunks(openai_sdk, client_bytes)


def test_response_failed_alone_is_the_openai_clients_error(wire, openai_sdk):
    openai = pytest.importorskip("openai")
    failed = response("failed", [], None, error={"code": "server_error", "message": "The model produced invalid content."})
    raw = responses_sse({"type": "response.created", "response": response("in_progress", [])},
                        {"type": "response.output_item.added", "output_index": 0, "item": MESSAGE_ITEM},
                        {"type": "response.output_text.delta", "item_id": "msg_1", "output_index": 0, "content_index": 0,
                         "delta": "Half", "logprobs": []},
                        {"type": "response.failed", "response": failed})
    with pytest.raises(openai.APIError, match="invalid content"):
        chat_chunks(openai_sdk, wire.translate_stream(TO_RESPONSES.stream(CHAT_REQUEST), raw))


def test_a_cut_stream_is_an_error_never_a_finish(wire, openai_sdk, chunk_size):
    openai = pytest.importorskip("openai")
    cut = wire.recorded_bytes(CALL).split(b"event: response.completed")[0]
    client_bytes = wire.translate_stream(TO_RESPONSES.stream(CHAT_REQUEST), cut, chunk_size)
    assert b"finish_reason\":\"" not in client_bytes and b"[DONE]" not in client_bytes
    seen = []
    with pytest.raises(openai.APIError, match="ended before it finished"):
        for chunk in openai_sdk(client_bytes).chat.completions.create(**CHAT_REQUEST):
            seen.extend(c.delta.tool_calls[0].function.arguments for c in chunk.choices if c.delta.tool_calls)
    assert "".join(seen) == '{"city":"Beijing"}'  # what came before the cut, and nothing made up


def test_logprobs_stream_when_asked(wire, openai_sdk):
    entry = {"token": "Hi", "logprob": -0.25, "top_logprobs": [{"token": "Hi", "logprob": -0.25}, {"token": "Hey", "logprob": -1.5}]}
    raw = responses_sse({"type": "response.created", "response": response("in_progress", [])},
                        {"type": "response.output_text.delta", "item_id": "msg_1", "output_index": 0, "content_index": 0,
                         "delta": "Hi", "logprobs": [entry]},
                        {"type": "response.completed", "response": response("completed", [], USAGE)})
    request = {**CHAT_REQUEST, "logprobs": True, "top_logprobs": 2}
    (content,) = [c for c in chat_chunks(openai_sdk, wire.translate_stream(TO_RESPONSES.stream(request), raw), request)
                  if c.choices and c.choices[0].delta.content]
    (logprob,) = content.choices[0].logprobs.content
    assert (logprob.token, logprob.logprob, logprob.bytes, [t.token for t in logprob.top_logprobs]) == ("Hi", -0.25, None, ["Hi", "Hey"])


# -- Anthropic clients, through the chat hub -------------------------------------------------


def test_function_call_stream_reaches_the_anthropic_sdk(wire, anthropic_sdk, chunk_size):
    upstream = wire.recorded_bytes(CALL)
    client_bytes = wire.translate_stream(CLAUDE_ON_RESPONSES.stream(ANTHROPIC_REQUEST), upstream, chunk_size)
    body = {k: v for k, v in ANTHROPIC_REQUEST.items() if k != "stream"}
    with anthropic_sdk(client_bytes).messages.stream(**body) as stream:
        message = stream.get_final_message()
    (call,) = message.content
    assert (message.stop_reason, call.type, call.id, call.name, call.input) == (
        "tool_use", "tool_use", "call_2FQdm3Br7Qb35YUBSkDR7kue", "get_weather", {"city": "Beijing"})
    assert (message.usage.input_tokens, message.usage.output_tokens) == (45, 25)
    expected = PROTOCOLS["openai-responses"].stream_usage()
    for event in wire.events(upstream):
        expected.feed(event)
    seen = PROTOCOLS["anthropic-messages"].stream_usage()
    for event in wire.events(client_bytes):
        seen.feed(event)
    assert seen.report().tokens == expected.report().tokens


def test_text_stream_reaches_the_anthropic_sdk(wire, anthropic_sdk):
    client_bytes = wire.translate_stream(CLAUDE_ON_RESPONSES.stream(ANTHROPIC_REQUEST), reasoning_then_text())
    body = {k: v for k, v in ANTHROPIC_REQUEST.items() if k != "stream"}
    with anthropic_sdk(client_bytes).messages.stream(**body) as stream:
        message = stream.get_final_message()
    assert [b.type for b in message.content] == ["text"] and message.content[0].text == "It is 18C."  # no thinking asked
    assert message.stop_reason == "end_turn"
    # Anthropic's convention: input excludes the cached prompt tokens
    assert (message.usage.input_tokens, message.usage.cache_read_input_tokens, message.usage.output_tokens) == (300, 1792, 340)


@pytest.mark.parametrize("raw", ["quota", "cut"])
def test_a_broken_stream_is_the_anthropic_clients_error(wire, anthropic_sdk, raw):
    anthropic = pytest.importorskip("anthropic")
    upstream = wire.recorded_bytes(QUOTA) if raw == "quota" else wire.recorded_bytes(CALL).split(b"event: response.completed")[0]
    client_bytes = wire.translate_stream(CLAUDE_ON_RESPONSES.stream(ANTHROPIC_REQUEST), upstream)
    assert b"message_stop" not in client_bytes
    body = {k: v for k, v in ANTHROPIC_REQUEST.items() if k != "stream"}
    with pytest.raises(anthropic.APIError, match="exceeded your current quota" if raw == "quota" else "ended before"), \
            anthropic_sdk(client_bytes).messages.stream(**body) as stream:
        stream.get_final_message()


def test_the_terminal_output_repeats_nothing_already_streamed(wire, openai_sdk):
    """Final output items without their ids (some compatible servers) must not send a call or text twice."""
    call = {"id": "fc_1", "type": "function_call", "status": "in_progress", "arguments": "", "call_id": "call_1", "name": "f"}
    bare_call = {k: v for k, v in call.items() if k != "id"} | {"status": "completed", "arguments": '{"a":1}'}
    bare_text = {k: v for k, v in MESSAGE_ITEM.items() if k != "id"} | {"content": [{"type": "output_text", "text": "Hi."}]}
    raw = responses_sse({"type": "response.created", "response": response("in_progress", [])},
                        {"type": "response.output_text.delta", "item_id": "msg_1", "output_index": 0, "content_index": 0,
                         "delta": "Hi.", "logprobs": []},
                        {"type": "response.output_item.added", "output_index": 1, "item": call},
                        {"type": "response.function_call_arguments.delta", "item_id": "fc_1", "output_index": 1, "delta": '{"a":'},
                        {"type": "response.completed", "response": response("completed", [bare_text, bare_call], USAGE)})
    completion = final_completion(openai_sdk, wire.translate_stream(TO_RESPONSES.stream(CHAT_REQUEST), raw))
    message = completion.choices[0].message
    assert message.content == "Hi."
    assert [(c.id, c.function.arguments) for c in message.tool_calls] == [("call_1", '{"a":1}')]  # the rest caught up
