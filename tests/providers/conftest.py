"""Recorded provider payloads (see data/README.md) and helpers to replay them through a protocol."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inferaudit.providers import PROTOCOLS, SSEParser
from inferaudit.providers.base import UsageReport

DATA = Path(__file__).parent / "data"


def load_json(name: str) -> dict:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def load_bytes(name: str) -> bytes:
    return (DATA / name).read_bytes()


def events_of(stream: bytes, chunk_size: int | None = None) -> list:
    """Parse ``stream`` fed whole, or in ``chunk_size`` pieces as a network would cut it."""
    parser = SSEParser()
    size = chunk_size or len(stream) or 1
    events = []
    for start in range(0, len(stream), size):
        events.extend(parser.feed(stream[start : start + size]))
    return events + parser.flush()


def replay(protocol: str, name: str, chunk_size: int | None = None) -> UsageReport:
    """A recorded stream through the SSE parser and the protocol's stream usage, as the gateway runs them."""
    usage = PROTOCOLS[protocol].stream_usage()
    for event in events_of(load_bytes(name), chunk_size):
        usage.feed(event)
    return usage.report()


@pytest.fixture
def data():
    """Helpers over the recorded payloads: ``data.json(name)``, ``data.bytes(name)``, ``data.replay(...)``."""

    class Data:
        path = DATA
        json = staticmethod(load_json)
        bytes = staticmethod(load_bytes)
        events = staticmethod(events_of)
        replay = staticmethod(replay)

    return Data


@pytest.fixture(params=[None, 1, 7, 4096], ids=["whole", "1-byte", "7-byte", "4k"])
def chunk_size(request):
    """Every stream test runs with the stream cut four ways: usage must not depend on the cuts."""
    return request.param


