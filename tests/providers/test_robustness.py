"""Garbage upstream must never break the relay: every protocol reads mangled payloads without raising."""

from __future__ import annotations

import json
import random

import pytest

from inferaudit.providers import PROTOCOLS
from inferaudit.providers.base import SSEEvent
from inferaudit.providers.errors import UpstreamProtocolError
from inferaudit.usage import Tokens

PROTOCOL_OF = {"openai-chat": "openai-chat", "openai-error": "openai-chat", "openai-responses": "openai-responses",
               "anthropic": "anthropic-messages", "gemini": "gemini"}
ODD_VALUES = [None, 0, -1, 1.5, 2.0, "12", "", [], {}, [1, "a"], {"a": None}, True, 10**30]


def protocol_for(name: str):
    return PROTOCOLS[next(p for prefix, p in PROTOCOL_OF.items() if name.startswith(prefix))]


def mangle(value, rng: random.Random):
    """``value`` with one randomly chosen node replaced by an odd value."""
    if isinstance(value, dict) and value and rng.random() < 0.8:
        key = rng.choice(list(value))
        return {**value, key: mangle(value[key], rng)}
    if isinstance(value, list) and value and rng.random() < 0.8:
        i = rng.randrange(len(value))
        return value[:i] + [mangle(value[i], rng)] + value[i + 1 :]
    return rng.choice(ODD_VALUES)


def test_mangled_recorded_payloads_never_raise(data):
    rng = random.Random(7)
    for path in sorted(data.path.glob("*.sse")) + sorted(data.path.glob("*.json")):
        protocol = protocol_for(path.name)
        if path.suffix == ".json":
            body = data.json(path.name)
            for _ in range(200):
                mangled = mangle(body, rng)
                if not isinstance(mangled, dict):  # the whole body is not an object: the gateway's 502
                    with pytest.raises(UpstreamProtocolError):
                        protocol.usage(mangled)
                    continue
                report = protocol.usage(mangled)
                assert report.tokens is None or isinstance(report.tokens, Tokens)
            continue
        events = data.events(path.read_bytes())
        for _ in range(200):
            usage = protocol.stream_usage()
            target = rng.randrange(len(events))
            for i, event in enumerate(events):
                payload = event.data
                if i == target and payload != "[DONE]":
                    payload = json.dumps(mangle(json.loads(payload), rng))
                usage.feed(SSEEvent(event.event, payload))
            report = usage.report()
            assert report.tokens is None or isinstance(report.tokens, Tokens), path.name


@pytest.mark.parametrize("name", sorted(PROTOCOLS))
def test_non_json_and_non_object_events_are_ignored(name):
    usage = PROTOCOLS[name].stream_usage()
    for data in ("", "not json", "[1,2]", "42", "null", '"text"', "{", "\ufffd"):
        usage.feed(SSEEvent(None, data))
    assert usage.report().tokens is None
