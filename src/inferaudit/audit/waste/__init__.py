"""Waste attribution and what-if replays: where the money went, and what would change it.

``analyse`` reads the priced calls (the ``priced_calls`` view must exist)
and the events, and returns one JSON-able dict:

- ``cache``: hit rate, misses by cause with their dollars, wasted writes,
  examples (file and line), per session (:mod:`.cache`);
- ``what_if``: the cache TTL replayed at 5m / 1h / none (:mod:`.replay`),
  other models' prices (upper bounds) and batch prices (:mod:`.prices`);
- ``retries``: failed and retried calls, retry events (:mod:`.retries`);
- ``loop_caps``: turns and cost per run, caps replayed (:mod:`.loops`);
- ``context``: prompt growth and compactions (:mod:`.context`);
- ``levers``: the ranked levers built from all of the above (:mod:`.levers`).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import duckdb

from ...pricing import PriceBook
from ..runs import RunRow
from . import cache, context, levers, loops, prices, replay, retries
from .calls import CallView, load

__all__ = ["analyse"]


def analyse(con: duckdb.DuckDBPyConnection, runs: list[RunRow], book: PriceBook, total_usd: float | None) -> dict[str, Any]:
    ledgered = load(con, book, {r.run_id for r in runs})
    steps = []
    for (run_id, _agent), thread in ledgered.threads.items():
        steps += cache.analyse_thread(thread, ledgered.events.get(run_id, []))
    calls = ledgered.calls()
    calls_by_run: dict[str, list[CallView]] = defaultdict(list)
    for c in calls:
        calls_by_run[c.run_id].append(c)
    for run_calls in calls_by_run.values():
        run_calls.sort(key=lambda c: (c.start is None, c.start or 0, c.call_id))
    all_events = [e for events in ledgered.events.values() for e in events]
    out = {
        "cache": cache.summarise(steps),
        "what_if": {
            "cache_ttl": replay.ttl_what_if(steps),
            "no_cache_all_calls": _no_cache(steps),
            "models": prices.model_what_if(calls, book),
            "batch": prices.batch_what_if(calls, book),
        },
        "retries": retries.retries(calls, all_events),
        "loop_caps": loops.loop_caps(runs, calls_by_run),
        "context": context.context_growth(ledgered.threads, ledgered.events),
    }
    out["levers"] = levers.ranked(out, total_usd)
    return out


def _no_cache(steps: list[cache.Step]) -> dict[str, Any]:
    """What prompt caching saved over every priced call: their cost with every prompt token billed as input."""
    priced = [s for s in steps if s.call.rates is not None and s.call.cost is not None]
    actual = sum(s.call.cost for s in priced)
    without = sum(s.call.rates.cost(replay.replay(s, None)) for s in priced)
    return {"calls": len(priced), "actual_usd": actual, "usd": without, "caching_saved_usd": without - actual}
