"""The Chat -> Responses translator's field tables are complete: every OpenAI path it reads or writes is declared.

The check tests/drift/test_fields.py makes for the other translators, run on this one: its
request, answer and stream are fed JSON whose every object logs the keys asked of it, and what
they produce is walked path by path; each path must be covered by the ``READS`` / ``WRITES``
tables of ``inferaudit.drift.fields.OPENAI_MODULES`` (which lists the three new modules).
"""

from __future__ import annotations

import json
from pathlib import Path

from inferaudit.drift.fields import OPENAI_MODULES
from inferaudit.providers import SSEParser
from inferaudit.testing.fieldlog import Recorder, uncovered_reads, uncovered_writes
from inferaudit.translate import (
    chat_to_responses_answer,
    chat_to_responses_chunks,
    chat_to_responses_request,
    get,
)
from inferaudit.translate.common import loads

TO_RESPONSES = get("openai-chat", "openai-responses")


def full_request() -> dict:
    """A chat request touching every field the translator reads (refused ones at values it lets pass)."""
    return {
        "model": "m", "stream": True, "stream_options": {"include_usage": True}, "store": False, "max_completion_tokens": 64,
        "max_tokens": 64, "temperature": 1, "top_p": 1, "parallel_tool_calls": True, "user": "u", "safety_identifier": "s",
        "prompt_cache_key": "k", "prompt_cache_retention": "24h", "metadata": {"a": "b"}, "service_tier": "flex",
        "logprobs": True, "top_logprobs": 2, "verbosity": "low", "reasoning_effort": "high", "n": 1, "logit_bias": {},
        "modalities": ["text"], "stop": None, "presence_penalty": 0, "frequency_penalty": 0, "seed": 1,
        "response_format": {"type": "json_schema", "json_schema": {"name": "n", "description": "d", "strict": True,
                                                                   "schema": {"type": "object"}}},
        "tools": [{"type": "function", "function": {"name": "f", "description": "d", "strict": True,
                                                    "parameters": {"type": "object", "properties": {"a": {"type": "string"}}}}}],
        "tool_choice": {"type": "allowed_tools", "allowed_tools": {"mode": "auto", "tools": [{"type": "function", "function": {"name": "f"}}]}},
        "messages": [
            {"role": "system", "content": [{"type": "text", "text": "s"}]},
            {"role": "user", "content": [{"type": "text", "text": "t"}, {"type": "image_url", "image_url": {"url": "https://x/y.png", "detail": "high"}},
                                         {"type": "file", "file": {"file_data": "data:application/pdf;base64,AA==", "filename": "a.pdf"}},
                                         {"type": "file", "file": {"file_id": "file-1"}}]},
            {"role": "assistant", "content": [{"type": "text", "text": "a"}, {"type": "refusal", "refusal": "no"}],
             "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
            {"role": "assistant", "content": None, "refusal": "no"},
            {"role": "tool", "tool_call_id": "call_1", "content": [{"type": "text", "text": "r"}]},
            {"role": "developer", "content": "later"},
        ],
    }


def answers(wire) -> list[dict]:
    logprob = {"token": "a", "logprob": -1.0, "bytes": [97], "top_logprobs": [{"token": "a", "logprob": -1.0, "bytes": [97]}]}
    (completed,) = [e for e in wire.events(wire.recorded_bytes("openai-responses-stream-gpt-5.1-function-call.sse"))
                    if e.event == "response.completed"]
    composed = {"id": "resp_1", "object": "response", "created_at": 1, "status": "incomplete", "model": "m",
                "incomplete_details": {"reason": "content_filter"}, "service_tier": "default", "output": [
                    {"type": "reasoning", "summary": [], "content": [{"type": "reasoning_text", "text": "r"}]},
                    {"type": "message", "content": [{"type": "output_text", "text": "a", "logprobs": [logprob]},
                                                    {"type": "refusal", "refusal": "no"}]}],
                "usage": {"input_tokens": 3, "input_tokens_details": {"cached_tokens": 1, "cache_write_tokens": 1},
                          "output_tokens": 2, "output_tokens_details": {"reasoning_tokens": 1}}}
    return [wire.recorded_json("openai-responses-gpt-5-mini-reasoning.json"), json.loads(completed.data)["response"], composed]


def streams(wire) -> list[bytes]:
    entry = {"token": "a", "logprob": -1.0, "top_logprobs": [{"token": "a", "logprob": -1.0}]}
    extra = b"".join(b"event: %s\ndata: %s\n\n" % (e["type"].encode(), json.dumps(e).encode()) for e in [
        {"type": "response.output_text.delta", "item_id": "m", "delta": "x", "logprobs": [entry]},
        {"type": "response.refusal.delta", "item_id": "m", "delta": "no"},
        {"type": "response.reasoning_summary_text.delta", "item_id": "r", "summary_index": 0, "delta": "s"},
        {"type": "response.reasoning_text.delta", "item_id": "r", "content_index": 0, "delta": "t"},
        {"type": "response.output_item.added", "item": {"type": "function_call", "id": "fc", "call_id": "c", "name": "f", "arguments": ""}},
        {"type": "response.function_call_arguments.done", "item_id": "fc", "arguments": "{}"},
    ])
    return [wire.recorded_bytes("openai-responses-stream-gpt-5.1-function-call.sse"),
            wire.recorded_bytes("openai-responses-stream-error-quota.sse"),
            extra + (Path(__file__).parent / "data" / "openai-responses-stream-codex-max-text.sse").read_bytes()]


def test_request_reads_and_writes_are_declared():
    log = Recorder("chat.request")
    out = TO_RESPONSES.request(log.wrap(full_request()))
    TO_RESPONSES.stream(log.wrap(full_request()))
    assert "messages[].content[].file.filename" in log.gets, "the recorder saw too little: the test would pass vacuously"
    assert uncovered_reads(log, allow_walks=("",)) == []
    assert log.wholes == {""}  # the only walk: over the request's own keys, to refuse fields it cannot send
    assert out["text"]["format"]["type"] == "json_schema" and out["include"]
    assert uncovered_writes("responses.request", out) == []


def test_answer_reads_and_writes_are_declared(wire):
    for body in answers(wire):
        log = Recorder("responses.response")
        out = TO_RESPONSES.response(log.wrap(body), full_request())
        assert "usage.input_tokens" in log.gets and not log.wholes
        assert uncovered_reads(log) == []
        assert uncovered_writes("chat.response", out) == []


def test_stream_reads_and_writes_are_declared(wire, monkeypatch):
    log = Recorder("responses.event")
    monkeypatch.setattr(chat_to_responses_chunks, "event_json", lambda event: log.wrap_event(loads(event.data)))
    chunks = []
    for raw in streams(wire):
        stream = TO_RESPONSES.stream(full_request())
        parser = SSEParser()
        out = b"".join(stream.feed(e) for e in parser.feed(raw) + parser.flush()) + stream.close()
        chunks += [json.loads(line[6:]) for line in out.decode().splitlines() if line.startswith("data: {")]
    assert "response.completed:response.usage.input_tokens" in log.gets and "error:error" in log.gets
    assert uncovered_reads(log) == [] and not log.wholes
    assert any(c.get("choices") and c["choices"][0]["logprobs"] for c in chunks) and any("error" in c for c in chunks)
    for chunk in chunks:
        if "error" not in chunk:
            assert uncovered_writes("chat.chunk", chunk) == []


def test_the_new_modules_are_on_the_drift_list():
    assert {chat_to_responses_request, chat_to_responses_answer, chat_to_responses_chunks} <= set(OPENAI_MODULES)
    assert uncovered_writes("chat.chunk", {"choices": [{"delta": {"audio": {"id": "a"}}}]}) == ["chat.chunk choices[].delta.audio.id"]
