"""Stream shapes the recordings lack: parallel tool calls, text before calls, missing indexes, per-chunk usage.

Each upstream stream here is **composed** in the shape its server family
sends (OpenAI's parallel ``tool_calls`` deltas, Claude's text-then-tools
turn), then checked by the client's official SDK.
"""

from __future__ import annotations

import json

import pytest

from inferaudit.providers.sse import encode_event
from inferaudit.translate import get

TO_OPENAI = get("anthropic-messages", "openai-chat")
TO_ANTHROPIC = get("openai-chat", "anthropic-messages")
HEAD = {"id": "chatcmpl-par", "object": "chat.completion.chunk", "created": 1, "model": "qwen3"}


def chat_stream(*deltas, finish="tool_calls", usage=None, every_chunk_usage=None) -> bytes:
    chunks = [{**HEAD, "choices": [{"index": 0, "delta": d, "finish_reason": None}]} for d in deltas]
    chunks.append({**HEAD, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
    if every_chunk_usage:
        for chunk in chunks:
            chunk["usage"] = every_chunk_usage
    if usage:
        chunks.append({**HEAD, "choices": [], "usage": usage})
    return b"".join(encode_event(json.dumps(c)) for c in chunks) + encode_event("[DONE]")


def call(index, arguments, id=None, name=None):
    piece = {"index": index, "function": {"arguments": arguments}}
    if id:
        piece.update(id=id, type="function")
        piece["function"]["name"] = name
    return {"tool_calls": [piece]}


def anthropic_final(anthropic_sdk, client_bytes: bytes):
    with anthropic_sdk(client_bytes).messages.stream(model="m", max_tokens=10, messages=[{"role": "user", "content": "x"}]) as s:
        return s.get_final_message()


def test_parallel_openai_tool_calls_become_one_block_each_after_the_text(wire, anthropic_sdk):
    upstream = chat_stream(
        {"role": "assistant", "content": "Checking both."},
        call(0, "", id="call_a", name="get_weather"), call(0, '{"city": '), call(0, '"Paris"}'),
        call(1, '{"city": "Ber', id="call_b", name="get_weather"), call(1, 'lin"}'),
        usage={"prompt_tokens": 300, "completion_tokens": 31, "prompt_tokens_details": {"cached_tokens": 256}})
    client_bytes = wire.translate_stream(TO_OPENAI.stream({"model": "m"}), upstream)
    starts = [json.loads(e.data) for e in wire.events(client_bytes) if e.event == "content_block_start"]
    assert [(s["index"], s["content_block"]["type"]) for s in starts] == [(0, "text"), (1, "tool_use"), (2, "tool_use")]
    message = anthropic_final(anthropic_sdk, client_bytes)
    assert message.content[0].text == "Checking both."
    assert [(b.id, b.input) for b in message.content[1:]] == [("call_a", {"city": "Paris"}), ("call_b", {"city": "Berlin"})]
    assert (message.usage.input_tokens, message.usage.cache_read_input_tokens, message.usage.output_tokens) == (44, 256, 31)


def test_tool_call_deltas_without_index_follow_their_id(wire, anthropic_sdk):
    def unindexed(arguments, id=None):
        piece = {"function": {"arguments": arguments}}
        if id:
            piece.update(id=id, type="function")
            piece["function"]["name"] = "f"
        return {"tool_calls": [piece]}

    upstream = chat_stream(unindexed('{"n": ', id="c1"), unindexed("1}"), unindexed('{"n": 2}', id="c2"), finish="stop")
    message = anthropic_final(anthropic_sdk, wire.translate_stream(TO_OPENAI.stream(), upstream))
    assert [(b.id, b.input) for b in message.content] == [("c1", {"n": 1}), ("c2", {"n": 2})]
    assert message.stop_reason == "tool_use"  # "stop" after tool calls still means: run them


def test_usage_repeated_on_every_chunk_fills_message_start(wire):
    running = {"prompt_tokens": 900, "completion_tokens": 3, "prompt_tokens_details": {"cached_tokens": 512}}
    upstream = chat_stream({"content": "ok"}, finish="stop", every_chunk_usage=running)
    events = [json.loads(e.data) for e in wire.events(wire.translate_stream(TO_OPENAI.stream(), upstream))]
    assert events[0]["message"]["usage"] == {"input_tokens": 388, "cache_creation_input_tokens": 0,
                                             "cache_read_input_tokens": 512, "output_tokens": 3}
    assert events[-2]["usage"]["output_tokens"] == 3 and events[-2]["delta"]["stop_reason"] == "end_turn"


def test_claude_text_then_two_tool_uses_become_tool_indexes_zero_and_one(wire, openai_sdk):
    def event(payload):
        return encode_event(json.dumps(payload), payload["type"])

    start = {"type": "message_start", "message": {"id": "msg_x", "type": "message", "role": "assistant", "model": "claude",
             "content": [], "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 10, "output_tokens": 1}}}
    blocks = [({"type": "text", "text": ""}, {"type": "text_delta", "text": "Both."}),
              ({"type": "tool_use", "id": "toolu_a", "name": "f", "input": {}}, {"type": "input_json_delta", "partial_json": '{"n": 1}'}),
              ({"type": "tool_use", "id": "toolu_b", "name": "g", "input": {}}, {"type": "input_json_delta", "partial_json": '{"n": 2}'})]
    upstream = event(start)
    for index, (block, delta) in enumerate(blocks):
        upstream += event({"type": "content_block_start", "index": index, "content_block": block})
        upstream += event({"type": "content_block_delta", "index": index, "delta": delta})
        upstream += event({"type": "content_block_stop", "index": index})
    upstream += event({"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": None}, "usage": {"output_tokens": 40}})
    upstream += event({"type": "message_stop"})
    client_bytes = wire.translate_stream(TO_ANTHROPIC.stream({"model": "claude"}), upstream)
    with openai_sdk(client_bytes).chat.completions.stream(model="claude", messages=[{"role": "user", "content": "x"}]) as stream:
        completion = stream.get_final_completion()
    message = completion.choices[0].message
    assert message.content == "Both."
    assert [(c.id, c.function.name, json.loads(c.function.arguments)) for c in message.tool_calls] == [
        ("toolu_a", "f", {"n": 1}), ("toolu_b", "g", {"n": 2})]
    assert completion.choices[0].finish_reason == "tool_calls" and completion.usage is None


@pytest.mark.parametrize("translator", [TO_OPENAI, TO_ANTHROPIC], ids=["to-anthropic-client", "to-openai-client"])
def test_nothing_after_the_end(wire, translator):
    stream = translator.stream()
    assert stream.close() != b""  # an empty upstream is a cut stream: the client is told
    assert stream.close() == b"" and stream.error("late") == b""


def test_reasoning_then_answer_are_two_blocks_for_a_thinking_client(wire, anthropic_sdk):
    upstream = chat_stream({"role": "assistant", "reasoning_content": "2+2"}, {"reasoning_content": " is 4"},
                           {"content": "Four"}, {"content": "."}, finish="stop")
    message = anthropic_final(anthropic_sdk, wire.translate_stream(TO_OPENAI.stream({"thinking": {"type": "adaptive"}}), upstream))
    assert [(b.type, getattr(b, "thinking", None) or getattr(b, "text", None)) for b in message.content] == [
        ("thinking", "2+2 is 4"), ("text", "Four.")]


@pytest.mark.parametrize("translator, name, last", [
    (TO_OPENAI, "openai-chat-stream-llamacpp-spec.sse", b"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"),
    (TO_ANTHROPIC, "anthropic-stream-haiku-tool-use.sse", b"data: [DONE]\n\n"),
], ids=["to-anthropic-client", "to-openai-client"])
def test_the_client_stream_ends_at_the_upstreams_end_event_not_at_connection_close(wire, translator, name, last):
    client_bytes = wire.translate_stream(translator.stream({"stream_options": {"include_usage": True}}),
                                         wire.recorded_bytes(name), close=False)
    assert client_bytes.endswith(last)
