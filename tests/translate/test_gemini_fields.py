"""The Gemini translator's field tables are complete: every OpenAI path it reads or writes is declared.

The same check as tests/drift/test_fields.py (whose tables come from
``inferaudit.drift.fields.OPENAI_MODULES``), run here on the modules this
translator adds, so that their ``READS`` / ``WRITES`` are held to the code
before they join that list.
"""

from __future__ import annotations

import json

from inferaudit.drift.fields import OPENAI_MODULES, covers, declared
from inferaudit.providers import SSEParser
from inferaudit.translate import gemini_answer, gemini_chunks, gemini_request, get
from inferaudit.translate.gemini_answer import call_id

MODULES = (*OPENAI_MODULES, gemini_request, gemini_answer, gemini_chunks)
TO_GEMINI = get("openai-chat", "gemini")


class Recorded(dict):
    """A JSON object that logs every key read from it (``get``, ``[]``, ``in``) and every walk over all its keys."""

    def __init__(self, log: tuple[set, set], path: str, items: dict) -> None:
        super().__init__(items)
        self._log, self._path = log, path

    def _key(self, key) -> None:
        self._log[0].add(f"{self._path}.{key}" if self._path else str(key))

    def get(self, key, default=None):
        self._key(key)
        return super().get(key, default)

    def __getitem__(self, key):
        self._key(key)
        return super().__getitem__(key)

    def __contains__(self, key):
        self._key(key)
        return super().__contains__(key)

    def __iter__(self):
        self._log[1].add(self._path)
        return super().__iter__()

    def keys(self):
        self._log[1].add(self._path)
        return super().keys()

    def items(self):
        self._log[1].add(self._path)
        return super().items()


def recorded(value, log: tuple[set, set], path: str = ""):
    if isinstance(value, dict):
        return Recorded(log, path, {k: recorded(v, log, f"{path}.{k}" if path else k) for k, v in value.items()})
    if isinstance(value, list):
        return [recorded(v, log, path + "[]") for v in value]
    return value


def paths(node, path: str = "") -> set[str]:
    if isinstance(node, dict) and node:
        return set().union(*(paths(v, f"{path}.{k}" if path else k) for k, v in node.items()))
    if isinstance(node, list) and node:
        return set().union(*(paths(v, path + "[]") for v in node))
    return {path}


def uncovered_writes(obj: str, value: dict) -> list[str]:
    table = declared(MODULES, table="WRITES")
    missing = []
    for path in paths(value):
        where, rest = ("chat.usage", path[len("usage."):]) if path.startswith("usage.") else (obj, path)
        if not covers(table.get(where, set()), rest):
            missing.append(f"{where} {rest}")
    return sorted(missing)


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
    log: tuple[set, set] = (set(), set())
    body = full_request()
    body["messages"][3]["tool_call_id"] = body["messages"][2]["tool_calls"][0]["id"]
    TO_GEMINI.request(recorded(body, log))
    TO_GEMINI.stream(recorded(body, log))
    TO_GEMINI.response({"candidates": [{"content": {"parts": [{"text": "x"}]}}]}, recorded(body, log))
    table = declared(MODULES, table="READS")["chat.request"]
    assert "messages[].content[].input_audio.format" in log[0], "the recorder saw too little: the test would pass vacuously"
    assert sorted(p for p in log[0] if not covers(table, p)) == []
    # walks over whole objects: tool and response schemas (declared ``*``), and the request's key set, read
    # only to refuse fields Gemini cannot honour
    assert "tools[].function.parameters" in log[1] and "" in log[1]
    assert sorted(p for p in log[1] - {""} if not covers(table, p, whole=True)) == []


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


def test_an_undeclared_write_is_caught():
    assert uncovered_writes("chat.chunk", {"choices": [{"delta": {"audio": {"id": "a"}}}]}) == ["chat.chunk choices[].delta.audio.id"]
