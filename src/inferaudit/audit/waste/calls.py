"""The call sequences the waste analyses read: one ordered thread per conversation.

A *thread* is the calls that share one prompt cache: the calls of one run
with the same agent tag (a subagent's conversation has a prefix of its
own, so its calls are a thread apart from the main one). Calls are ordered
by start time (end time when the start is unknown), then id.

Each call carries the rates it was priced at (looked up in the same price
book, for the same day and prompt tier as the ``priced_calls`` view), so an
analysis can price a counterfactual bucket by bucket.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import duckdb
import orjson

from ...pricing import PriceBook, Rates
from ...usage import BUCKETS, Tokens

MAIN = ""  # the agent tag of a run's main conversation


@dataclass(slots=True)
class CallView:
    """One priced call as the waste analyses see it."""

    call_id: str
    run_id: str
    agent: str
    provider: str | None
    model: str | None
    harness: str | None
    started_at: datetime | None
    ended_at: datetime | None
    tokens: Tokens
    cost: float | None
    rates: Rates | None
    status: str
    attempt: int
    tags: dict[str, Any]
    source_file: str | None
    source_line: int | None

    @property
    def start(self) -> datetime | None:
        return self.started_at or self.ended_at

    @property
    def end(self) -> datetime | None:
        return self.ended_at or self.started_at

    @property
    def thread(self) -> tuple[str, str]:
        return (self.run_id, self.agent)

    def where(self) -> dict[str, Any]:
        """Where a user finds this call: file and line, with its id."""
        return {"call_id": self.call_id, "file": self.source_file, "line": self.source_line}


@dataclass(slots=True)
class EventView:
    kind: str
    run_id: str | None
    at: datetime | None
    data: dict[str, Any]
    source_file: str | None
    source_line: int | None

    def where(self) -> dict[str, Any]:
        return {"file": self.source_file, "line": self.source_line}


@dataclass(slots=True)
class Ledgered:
    """Every priced call, by thread, and every event, by run."""

    threads: dict[tuple[str, str], list[CallView]] = field(default_factory=dict)
    events: dict[str | None, list[EventView]] = field(default_factory=dict)

    def calls(self) -> list[CallView]:
        return [c for thread in self.threads.values() for c in thread]


_CALLS_SQL = f"""
SELECT call_id, run_id, coalesce(tags->>'agent', '') AS agent, provider, model, harness, started_at, ended_at,
       {", ".join(BUCKETS)}, CASE WHEN priced THEN cost END AS cost, status, attempt, tags, source_file, source_line
FROM priced_calls
ORDER BY run_id, agent, coalesce(started_at, ended_at) NULLS LAST, call_id
"""


def load(con: duckdb.DuckDBPyConnection, book: PriceBook, run_ids: set[str]) -> Ledgered:
    """Read the ``priced_calls`` view (it must exist) and the events table, for the runs in ``run_ids``."""
    threads: dict[tuple[str, str], list[CallView]] = defaultdict(list)
    for row in con.execute(_CALLS_SQL).fetchall():
        call_id, run_id, agent, provider, model, harness, started, ended = row[:8]
        if run_id not in run_ids:
            continue
        tokens = Tokens(*(int(v or 0) for v in row[8:8 + len(BUCKETS)]))
        cost, status, attempt, tags, source_file, source_line = row[8 + len(BUCKETS):]
        model_rates = book.rates(provider, model, started or ended) if cost is not None else None
        call = CallView(
            call_id, run_id, agent, provider, model, harness, started, ended, tokens, cost,
            model_rates.for_prompt(tokens.prompt) if model_rates else None, status or "ok", attempt or 1,
            orjson.loads(tags) if tags else {}, source_file, source_line,
        )
        threads[call.thread].append(call)
    events: dict[str | None, list[EventView]] = defaultdict(list)
    for kind, run_id, at, data, source_file, source_line in con.execute(
        "SELECT kind, run_id, occurred_at, data, source_file, source_line FROM events "
        "ORDER BY run_id, occurred_at NULLS LAST, source_file, source_line"
    ).fetchall():
        if run_id in run_ids:
            events[run_id].append(EventView(kind, run_id, at, orjson.loads(data) if data else {}, source_file, source_line))
    return Ledgered(dict(threads), dict(events))
