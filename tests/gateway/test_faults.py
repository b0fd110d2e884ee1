"""Every fault the emulator can inject, mixed with good traffic at concurrency 32 (issue 8, point 2).

What must hold for every request: the client gets a complete response or
the protocol's own error (a 4xx/5xx error body, or a stream that ends with
the protocol's error event); no stream holds content from two upstream
attempts; and the ledger holds exactly one row per upstream attempt,
reconciled against the emulator's own count of the requests it received.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter

import orjson
import pytest

from inferaudit.ledger import Ledger
from inferaudit.providers.sse import SSEParser
from inferaudit.testing.gateway import GatewayThread
from inferaudit.testing.traffic import drive

# faults that the gateway's retry hides (the first attempt fails before any byte reaches the client)
RETRIED = ["429@1", "503@1", "reset-before-headers@1", "slow-first-byte:3@1"]
FAILING = ["500", "reset-before-headers", "reset-mid-stream", "stall-mid-stream:3", "malformed-sse",
           "truncated-json", "wrong-content-type"]
KINDS = [("openai", False), ("openai", True), ("anthropic", False), ("anthropic", True)]


def is_error_body(kind: str, body: dict) -> bool:
    if kind == "openai":
        return isinstance(body.get("error"), dict) and bool(body["error"].get("message"))
    return body.get("type") == "error" and bool(body.get("error", {}).get("message"))


def verdict(kind: str, stream: bool, status: int, content_type: str, raw: bytes) -> str:
    """'complete', 'error' (the protocol's own), or a description of what is wrong."""
    if status != 200:
        if not 400 <= status < 600 or "application/json" not in content_type:
            return f"status {status} with {content_type}"
        return "error" if is_error_body(kind, orjson.loads(raw)) else f"{status} without the protocol's error body"
    if not stream:
        body = orjson.loads(raw)
        done = body.get("choices") if kind == "openai" else body.get("stop_reason")
        return "complete" if done else f"incomplete JSON body: {raw[:120]!r}"
    parser = SSEParser()
    events = parser.feed(raw) + parser.flush()
    if not events:
        return "empty stream"
    datas = []
    for event in events[:-1]:
        if event.data == "[DONE]":
            return "an event after [DONE]"
        data = json.loads(event.data)  # raises on a malformed event: the test fails loudly
        if (kind == "openai" and "error" in data) or data.get("type") in ("error", "message_stop"):
            return "an event after the end of the stream"
        datas.append(data)
    last = events[-1]
    if kind == "openai":
        ids = {d.get("id") for d in datas}
        if len(ids) > 1:
            return f"chunks of {len(ids)} responses spliced together"
        if last.data == "[DONE]":
            return "complete"
        return "error" if is_error_body(kind, json.loads(last.data)) else "stream ended without [DONE] or an error"
    starts = sum(d.get("type") == "message_start" for d in datas)
    if starts > 1:
        return f"{starts} message_start events: attempts spliced together"
    end = json.loads(last.data)
    if end.get("type") == "message_stop":
        return "complete" if starts == 1 else "message_stop without message_start"
    return "error" if last.event == "error" and is_error_body(kind, end) else "stream ended without message_stop or an error"


def test_every_fault_mixed_with_good_traffic_at_concurrency_32(emulator, tmp_path, config_for):
    emulator.reset()
    ledger = tmp_path / "faults.duckdb"
    config = config_for(ledger, timeouts={"first_byte": 1.0, "idle": 1.0}, retry={"attempts": 3, "budget_s": 5})
    faults = [""] * 12 + RETRIED + FAILING  # good traffic is the majority
    jobs = [(kind, stream, fault, i) for i, (fault, (kind, stream)) in
            enumerate((f, k) for f in faults for k in KINDS)]
    with GatewayThread(config) as gateway:
        replies = asyncio.run(drive(gateway.url, jobs))
    outcomes = Counter()
    for (kind, stream, fault, i), (status, content_type, raw) in zip(jobs, replies):
        result = verdict(kind, stream, status, content_type, raw)
        assert result in ("complete", "error"), f"{fault or 'no fault'} {kind} {'sse' if stream else 'json'}: {result}"
        if fault in RETRIED or not fault:
            assert result == "complete", f"{fault or 'no fault'} {kind} {'sse' if stream else 'json'} should succeed"
        else:
            assert result == "error", f"{fault} {kind} {'sse' if stream else 'json'} should end in the protocol's error"
        outcomes[result] += 1
    assert outcomes["complete"] == 4 * (12 + len(RETRIED))

    received = emulator.requests
    with Ledger(ledger, read_only=True) as store:
        rows = store.con.execute("SELECT status, attempt FROM calls").fetchall()
    assert len(rows) == len(received)  # one row per upstream attempt, nothing lost, nothing doubled
    assert sum(status == "ok" for status, _ in rows) == sum(r.outcome == "ok" for r in received)
    retried = sum(attempt > 1 for _, attempt in rows)
    assert retried >= 4 * len(RETRIED)  # each retried-once fault cost one more attempt per kind
    assert len(received) > len(jobs)


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
def test_an_upstream_that_dies_inside_an_event_never_hands_the_client_half_an_event(emulator, tmp_path, config_for, kind):
    emulator.reset()
    with GatewayThread(config_for(tmp_path / "l.duckdb")) as gateway:
        ((status, content_type, raw),) = asyncio.run(drive(gateway.url, [(kind, True, "truncated-json", 0)]))
    assert status == 200
    *_, before, last = raw.rstrip(b"\n").split(b"\n\n")
    assert before.count(b"{") == before.count(b"}")  # the event before the error is whole
    assert b"ended before its final event" in last
