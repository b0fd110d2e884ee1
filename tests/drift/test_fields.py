"""The gateway's declared field tables are complete: every path the code touches on real payloads is listed.

Reads are recorded by running the real mappers and translators on the
recorded payloads in tests/providers/data with every JSON object replaced by
a dict that logs each key it is asked for; writes are the paths of what the
translators and error builders produce. A mapper that starts reading (or a
translator that starts writing) a path its module's table does not list
fails here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inferaudit.drift.catalog import OPENAI
from inferaudit.drift.fields import gateway_fields
from inferaudit.providers import PROTOCOLS, SSEParser, openai_chat, openai_responses
from inferaudit.providers._common import loads
from inferaudit.testing.fieldlog import (
    Recorder,
    uncovered_reads,
    uncovered_writes,
)
from inferaudit.translate import anthropic_events, get

PROVIDER_DATA = Path(__file__).parents[1] / "providers" / "data"
REQUESTS = Path(__file__).parents[1] / "translate" / "data"


def events(name: str):
    parser = SSEParser()
    return parser.feed((PROVIDER_DATA / name).read_bytes()) + parser.flush()


def sse_json(raw: bytes) -> list[dict]:
    return [json.loads(line[6:]) for line in raw.decode().splitlines() if line.startswith("data: {")]


def openai_files(pattern: str) -> list[str]:
    return sorted(p.name for p in PROVIDER_DATA.glob(pattern))


# -- reads ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", openai_files("openai-chat-*.json") + openai_files("openai-error-*.json"))
def test_chat_response_reads_are_declared(name):
    recorder = Recorder("chat.response")
    PROTOCOLS["openai-chat"].usage(recorder.wrap(json.loads((PROVIDER_DATA / name).read_text())))
    assert recorder.gets, "the recorder saw nothing: the test would pass vacuously"
    assert uncovered_reads(recorder) == []


@pytest.mark.parametrize("name", openai_files("openai-chat-stream-*.sse"))
def test_chat_stream_reads_are_declared(name, monkeypatch):
    recorder = Recorder("chat.chunk")
    monkeypatch.setattr(openai_chat, "event_json", lambda event: recorder.wrap(loads(event.data)))
    usage = PROTOCOLS["openai-chat"].stream_usage()
    for event in events(name):
        usage.feed(event)
    assert usage.report().tokens is not None
    assert "usage.prompt_tokens" in recorder.gets
    assert uncovered_reads(recorder) == []


@pytest.mark.parametrize("name", openai_files("openai-responses-*.json"))
def test_responses_body_reads_are_declared(name):
    recorder = Recorder("responses.response")
    PROTOCOLS["openai-responses"].usage(recorder.wrap(json.loads((PROVIDER_DATA / name).read_text())))
    assert "usage.input_tokens_details.cached_tokens" in recorder.gets
    assert uncovered_reads(recorder) == []


@pytest.mark.parametrize("name", openai_files("openai-responses-stream-*.sse"))
def test_responses_stream_reads_are_declared(name, monkeypatch):
    recorder = Recorder("responses.event")
    monkeypatch.setattr(openai_responses, "event_json", lambda event: recorder.wrap_event(loads(event.data)))
    usage = PROTOCOLS["openai-responses"].stream_usage()
    for event in events(name):
        usage.feed(event)
    assert any(path.startswith("response.") and ":" in path for path in recorder.gets)
    assert uncovered_reads(recorder) == []


@pytest.mark.parametrize("name", openai_files("openai-chat-*.json"))
def test_translated_chat_response_reads_are_declared(name):
    recorder = Recorder("chat.response")
    body = json.loads((PROVIDER_DATA / name).read_text())
    get("anthropic-messages", "openai-chat").response(recorder.wrap(body), {"model": "m", "thinking": {"type": "enabled"}})
    assert uncovered_reads(recorder) == []


@pytest.mark.parametrize("name", openai_files("openai-chat-stream-*.sse"))
def test_translated_chat_stream_reads_are_declared(name, monkeypatch):
    recorder = Recorder("chat.chunk")
    monkeypatch.setattr(anthropic_events, "event_json", lambda event: recorder.wrap(loads(event.data)))
    stream = get("anthropic-messages", "openai-chat").stream({"model": "m", "thinking": {"type": "enabled"}})
    for event in events(name):
        stream.feed(event)
    stream.close()
    assert uncovered_reads(recorder) == []


def test_chat_request_and_error_reads_are_declared():
    request = Recorder("chat.request")
    get("openai-chat", "anthropic-messages").request(request.wrap(json.loads((REQUESTS / "openai-chat-request.json").read_text())))
    error = Recorder("chat.error")
    from inferaudit.translate.common import error_message

    error_message(error.wrap(json.loads((PROVIDER_DATA / "openai-error-insufficient-quota.json").read_text())))
    assert request.gets and error.gets
    assert uncovered_reads(request) + uncovered_reads(error) == []


def test_an_undeclared_read_is_caught():
    """The check can fail: a usage field read by name must be listed, a ``*`` does not cover it."""
    recorder = Recorder("chat.response")
    body = recorder.wrap({"usage": {"prompt_tokens": 3, "prompt_tokens_details": {"audio_tokens": 1}}})
    openai_chat.map_usage(body["usage"])
    body["usage"]["prompt_tokens_details"].get("audio_tokens")  # what a new mapper line would do
    assert uncovered_reads(recorder) == ["chat.usage prompt_tokens_details.audio_tokens"]


# -- writes --------------------------------------------------------------------------


def test_translator_writes_are_declared():
    to_openai = get("openai-chat", "anthropic-messages")  # OpenAI clients in front of Anthropic
    message = json.loads((PROVIDER_DATA / "anthropic-message-haiku-tool-use.json").read_text())
    assert uncovered_writes("chat.response", to_openai.response(message, {"model": "m"})) == []
    for name in sorted(p.name for p in PROVIDER_DATA.glob("anthropic-stream-*.sse")):
        stream = to_openai.stream({"model": "m", "stream_options": {"include_usage": True}})
        out = b"".join(stream.feed(e) for e in events(name)) + stream.close()
        chunks = sse_json(out)
        assert chunks
        for chunk in chunks:
            assert uncovered_writes("chat.chunk", chunk) == [], name
    request = json.loads((REQUESTS / "claude-code-request.json").read_text())
    assert uncovered_writes("chat.request", get("anthropic-messages", "openai-chat").request(request)) == []


def test_error_writes_are_declared():
    assert uncovered_writes("chat.error", PROTOCOLS["openai-chat"].error_body(429, "slow down")) == []
    assert uncovered_writes("responses.error", PROTOCOLS["openai-responses"].error_body(500, "x")) == []
    event = sse_json(PROTOCOLS["openai-responses"].error_event("boom"))[0]
    assert uncovered_writes("responses.event", event) == []


def test_every_declared_object_has_a_spec_schema():
    assert {use.obj for use in gateway_fields(OPENAI.modules)} <= set(OPENAI.schemas)
