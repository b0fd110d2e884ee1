"""Recorded upstream payloads (tests/providers/data, read in place), client requests (./data), SDK doubles."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inferaudit.providers import SSEParser

HERE = Path(__file__).parent
RECORDED = HERE.parent / "providers" / "data"  # read-only: shared with the provider tests
REQUESTS = HERE / "data"


def recorded_json(name: str) -> dict:
    return json.loads((RECORDED / name).read_text(encoding="utf-8"))


def recorded_bytes(name: str) -> bytes:
    return (RECORDED / name).read_bytes()


def request_json(name: str) -> dict:
    return json.loads((REQUESTS / name).read_text(encoding="utf-8"))


def events_of(stream: bytes, chunk_size: int | None = None) -> list:
    """Parse ``stream`` fed whole, or in ``chunk_size`` pieces as a network would cut it."""
    parser = SSEParser()
    size = chunk_size or len(stream) or 1
    events = []
    for start in range(0, len(stream), size):
        events.extend(parser.feed(stream[start : start + size]))
    return events + parser.flush()


def translate_stream(stream_translator, upstream: bytes, chunk_size: int | None = None, close: bool = True) -> bytes:
    """The client bytes a stream translator makes of recorded upstream bytes, as the gateway would run it."""
    out = [stream_translator.feed(event) for event in events_of(upstream, chunk_size)]
    if close:
        out.append(stream_translator.close())
    return b"".join(out)


@pytest.fixture(params=[None, 1], ids=["whole", "1-byte"])
def chunk_size(request):
    """Streams fed whole and cut to single bytes: what the client sees must not depend on the cuts."""
    return request.param


@pytest.fixture
def wire():
    """Helpers over the fixtures: ``wire.recorded_json(name)``, ``wire.translate_stream(...)``, ..."""

    class Wire:
        recorded_json = staticmethod(recorded_json)
        recorded_bytes = staticmethod(recorded_bytes)
        request_json = staticmethod(request_json)
        events = staticmethod(events_of)
        translate_stream = staticmethod(translate_stream)

    return Wire
