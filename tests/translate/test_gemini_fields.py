"""The Gemini translator's field tables are complete: every OpenAI path it reads or writes is declared.

The check tests/drift/test_fields.py makes for the other translators (tables from
``inferaudit.drift.fields.OPENAI_MODULES``, which lists this translator's modules), run on
the request, answer and stream of this one.
"""

from __future__ import annotations

import json

from inferaudit.drift.fields import OPENAI_MODULES
from inferaudit.providers import SSEParser
from inferaudit.testing.fieldlog import Recorder, uncovered_reads, uncovered_writes
from inferaudit.translate import gemini_answer, gemini_chunks, gemini_request, get
from inferaudit.translate.gemini_answer import call_id

TO_GEMINI = get("openai-chat", "gemini")


def full_request() -> dict:
    """A chat request touching every field the translator maps."""
    return {
        "model": "m", "stream": True, "stream_options": {"include_usage": True}, "max_completion_tokens": 5,
        "max_tokens": 5, "temperature": 1, "top_p": 1, "top_k": 3, "stop": ["x"], "seed": 1, "n": 2,
        "presence_penalty": 0, "frequency_penalty": 0, "reasoning_effort": "low", "logprobs": False, "logit_bias": {},
        "modalities": ["text"], "response_format": {"type": "json_schema", "json_schema": {"name": "n", "schema": {"type": "object"}}},
        "tools": [{"type": "function", "function": {"name": "f", "description": "d", "parameters": {
            "$schema": "x", "type": "object", "properties": {"a": {"type": "string"}}}}}],
        "tool_choice": {"type": "allowed_tools", "allowed_tools": {"mode": "auto", "tools": [{"type": "function", "function": {"name": "f"}}]}},
        "messages": [
            {"role": "system", "content": [{"type": "text", "text": "s"}]},
            {"role": "user", "content": [{"type": "text", "text": "t"}, {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA=="}},
                                         {"type": "input_audio", "input_audio": {"data": "AA==", "format": "mp3"}},
                                         {"type": "file", "file": {"file_data": "data:application/pdf;base64,AA=="}}]},
            {"role": "assistant", "content": [{"type": "refusal", "refusal": "no"}], "refusal": "no",
             "tool_calls": [{"id": call_id("AAAA"), "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": None, "content": "r"},
        ],
    }


def test_request_reads_are_declared():
    log = Recorder("chat.request")
    body = full_request()
    body["messages"][3]["tool_call_id"] = body["messages"][2]["tool_calls"][0]["id"]
    TO_GEMINI.request(log.wrap(body))
    TO_GEMINI.stream(log.wrap(body))
    TO_GEMINI.response({"candidates": [{"content": {"parts": [{"text": "x"}]}}]}, log.wrap(body))
    assert "messages[].content[].input_audio.format" in log.gets, "the recorder saw too little: the test would pass vacuously"
    # walks over whole objects: tool and response schemas (declared ``*``), and the request's key set, read
    # only to refuse fields Gemini cannot honour
    assert "tools[].function.parameters" in log.wholes and "" in log.wholes
    assert uncovered_reads(log, allow_walks=("",)) == []


def test_answer_and_chunk_writes_are_declared(wire):
    answer = TO_GEMINI.response(wire.recorded_json("gemini-3-pro-tool-call.json"), {"model": "m"})
    thought = {"candidates": [{"content": {"parts": [{"text": "t", "thought": True}, {"text": "a"}]}, "finishReason": "STOP"}]}
    assert uncovered_writes("chat.response", answer) == uncovered_writes("chat.response", TO_GEMINI.response(thought)) == []
    upstream = wire.recorded_bytes("gemini-stream-3-pro-reasoning.sse") + b"data: " + json.dumps(
        {**wire.recorded_json("gemini-3-pro-tool-call.json"), "candidates": [
            {**wire.recorded_json("gemini-3-pro-tool-call.json")["candidates"][0], "index": 1}]}).encode() + b"\r\n\r\n"
    stream = TO_GEMINI.stream({"model": "m", "stream_options": {"include_usage": True}})
    parser = SSEParser()
    out = b"".join(stream.feed(e) for e in parser.feed(upstream)) + stream.close()
    chunks = [json.loads(line[6:]) for line in out.decode().splitlines() if line.startswith("data: {")]
    assert any(c["choices"] and "tool_calls" in c["choices"][0]["delta"] for c in chunks) and chunks[-1]["usage"]
    for chunk in chunks:
        assert uncovered_writes("chat.chunk", chunk) == []


def test_the_modules_are_on_the_drift_list_and_an_undeclared_write_is_caught():
    assert {gemini_request, gemini_answer, gemini_chunks} <= set(OPENAI_MODULES)
    assert uncovered_writes("chat.chunk", {"choices": [{"delta": {"audio": {"id": "a"}}}]}) == ["chat.chunk choices[].delta.audio.id"]
