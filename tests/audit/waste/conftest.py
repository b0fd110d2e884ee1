"""Hand-built Claude Code sessions with known gaps, compactions, model switches and retries.

Prices come from an override file, so every number the tests expect is a
hand computation (USD per million tokens):

| model | input | cache read | write 5m | write 1h | output |
| --- | --- | --- | --- | --- | --- |
| claude-haiku-4-5 | 1 | 0.1 | 1.25 | 2 | 5 |
| claude-opus-4-6 | 5 | 0.5 | 6.25 | 10 | 25 |

Session A (5-minute writes), main thread, seconds from 10:00:00:

| call | at | model | input | read | write 5m | output | what happens |
| --- | --- | --- | --- | --- | --- | --- | --- |
| a1 | 0 | haiku | 10 | 0 | 20,000 | 100 | cold start |
| a2 | 60 | haiku | 10 | 20,000 | 2,000 | 100 | hit |
| a3 | 660 | haiku | 10 | 0 | 24,000 | 100 | 600 s gap > 5 min: TTL expiry, 22,000 missed |
| (compaction at 680) | | | | | | | |
| a4 | 700 | haiku | 10 | 5,000 | 3,000 | 100 | after compaction: 3,010 missed |
| (api_retry at 710, status 529, 500 ms) | | | | | | | |
| a5 | 720 | haiku | 10 | 8,000 | 1,000 | 100 | hit |
| a6 | 740 | opus | 10 | 0 | 9,000 | 100 | model switch: 9,000 missed |
| a7 | 760 | opus | 10 | 4,000 | 6,000 | 100 | 20 s gap: prefix change, 5,000 missed |

and a subagent (its own thread): x1 at 100, haiku, input 10, write 5m 5,000, output 50.

Session B (1-hour writes), haiku, a day later:

| call | at | input | read | write 1h | output | what happens |
| --- | --- | --- | --- | --- | --- | --- |
| b1 | 0 | 10 | 0 | 10,000 | 100 | cold start |
| b2 | 1200 | 10 | 10,000 | 500 | 100 | 20 min gap < 1 h: hit |
| b3 | 5200 | 10 | 0 | 10,510 | 100 | 4,000 s gap > 1 h: TTL expiry, 10,500 missed |
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

HAIKU, OPUS = "claude-haiku-4-5", "claude-opus-4-6"
PRICES = """models:
  - model: claude-haiku-4-5*
    input: 1
    cache_read: 0.1
    cache_write_5m: 1.25
    cache_write_1h: 2
    output: 5
  - model: claude-opus-4-6*
    input: 5
    cache_read: 0.5
    cache_write_5m: 6.25
    cache_write_1h: 10
    output: 25
"""
A0 = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)
B0 = A0 + timedelta(days=1)


class Log:
    """Writes one Claude Code JSONL file, line by line, as Claude Code does."""

    def __init__(self, path: Path, session: str, start: datetime, agent: str | None = None):
        self.path, self.session, self.start, self.agent = path, session, start, agent
        self.lines: list[dict] = []

    def _base(self, at: float, kind: str) -> dict:
        n = len(self.lines) + 1
        obj = {"parentUuid": None, "isSidechain": self.agent is not None, "type": kind, "sessionId": self.session,
               "uuid": f"{self.session}-{self.agent}-{n}", "timestamp": (self.start + timedelta(seconds=at)).isoformat()}
        if self.agent:
            obj["agentId"] = self.agent
        return obj

    def call(self, at: float, model: str, *, inp=0, read=0, w5=0, w1=0, out=0) -> int:
        obj = self._base(at, "assistant")
        n = len(self.lines) + 1
        obj["requestId"] = f"req-{self.session}-{self.agent}-{n}"
        obj["message"] = {"id": f"msg-{self.session}-{self.agent}-{n}", "model": model, "content": [],
                          "usage": {"input_tokens": inp, "cache_read_input_tokens": read,
                                    "cache_creation_input_tokens": w5 + w1,
                                    "cache_creation": {"ephemeral_5m_input_tokens": w5, "ephemeral_1h_input_tokens": w1},
                                    "output_tokens": out}}
        self.lines.append(obj)
        return len(self.lines)

    def compaction(self, at: float, pre_tokens: int) -> int:
        obj = self._base(at, "system")
        obj.update(subtype="compact_boundary", compactMetadata={"trigger": "auto", "preTokens": pre_tokens})
        self.lines.append(obj)
        return len(self.lines)

    def retry(self, at: float, status: int, wait_ms: int) -> int:
        obj = self._base(at, "system")
        obj.update(subtype="api_error", error={"status": status}, retryAttempt=1, maxRetries=10, retryInMs=wait_ms)
        self.lines.append(obj)
        return len(self.lines)

    def write(self) -> Path:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text("".join(json.dumps(o) + "\n" for o in self.lines))
        return self.path


@pytest.fixture
def hand_built(tmp_path):
    """Writes sessions A and B and the price file; returns (logs folder, price file, line numbers by call)."""
    root = tmp_path / "logs"
    lines = {}
    a = Log(root / "A.jsonl", "A", A0)
    lines["a1"] = a.call(0, HAIKU, inp=10, w5=20_000, out=100)
    lines["a2"] = a.call(60, HAIKU, inp=10, read=20_000, w5=2_000, out=100)
    lines["a3"] = a.call(660, HAIKU, inp=10, w5=24_000, out=100)
    lines["compaction"] = a.compaction(680, 24_010)
    lines["a4"] = a.call(700, HAIKU, inp=10, read=5_000, w5=3_000, out=100)
    lines["retry"] = a.retry(710, 529, 500)
    lines["a5"] = a.call(720, HAIKU, inp=10, read=8_000, w5=1_000, out=100)
    lines["a6"] = a.call(740, OPUS, inp=10, w5=9_000, out=100)
    lines["a7"] = a.call(760, OPUS, inp=10, read=4_000, w5=6_000, out=100)
    a.write()
    x = Log(root / "A" / "subagents" / "agent-x.jsonl", "A", A0, agent="x")
    lines["x1"] = x.call(100, HAIKU, inp=10, w5=5_000, out=50)
    x.write()
    b = Log(root / "B.jsonl", "B", B0)
    lines["b1"] = b.call(0, HAIKU, inp=10, w1=10_000, out=100)
    lines["b2"] = b.call(1200, HAIKU, inp=10, read=10_000, w1=500, out=100)
    lines["b3"] = b.call(5200, HAIKU, inp=10, w1=10_510, out=100)
    b.write()
    prices = tmp_path / "prices.yaml"
    prices.write_text(PRICES)
    return root, prices, lines
