"""What failed and retried calls cost.

Two kinds of record say a retry happened: a call whose status is not
``ok`` or whose attempt number is above 1 (the gateway books every
upstream attempt; other sources may too), and a retry event in a harness
log (Claude Code's ``api_error`` lines, stored as ``api_retry``). A failed
attempt costs what its billed tokens cost (often nothing: most errors are
not billed, but a stream cut mid-way is); a retry event carries no usage,
so it adds waiting time, not dollars, as far as the log shows.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from .calls import CallView, EventView

MAX_EXAMPLES = 5


def retries(calls: list[CallView], events: list[EventView]) -> dict[str, Any]:
    failed = [c for c in calls if c.status != "ok"]
    by_status: dict[str, dict[str, Any]] = defaultdict(lambda: {"count": 0, "usd": 0.0, "tokens": 0})
    for c in failed:
        row = by_status[c.status]
        row["count"] += 1
        row["usd"] += c.cost or 0.0
        row["tokens"] += c.tokens.prompt + c.tokens.output
    retry_events = [e for e in events if e.kind == "api_retry"]
    waits = [e.data.get("retry_in_ms") for e in retry_events]
    statuses = Counter(str(e.data.get("status")) for e in retry_events if e.data.get("status") is not None)
    return {
        "failed_calls": len(failed),
        "failed_usd": sum(c.cost or 0.0 for c in failed),
        "unpriced_failed_calls": sum(c.cost is None for c in failed),
        "by_status": dict(sorted(by_status.items(), key=lambda kv: -kv[1]["count"])),
        "retried_calls": sum(c.attempt > 1 for c in calls),
        "retried_ok_usd": sum(c.cost or 0.0 for c in calls if c.attempt > 1 and c.status == "ok"),
        "retry_events": len(retry_events),
        "retry_wait_s": sum(w for w in waits if isinstance(w, (int, float))) / 1000,
        "retry_event_statuses": dict(statuses.most_common()),
        "examples": [{**c.where(), "status": c.status, "attempt": c.attempt, "usd": c.cost}
                     for c in sorted(failed, key=lambda c: -(c.cost or 0))[:MAX_EXAMPLES]]
        + [{**e.where(), "status": e.data.get("status"), "attempt": e.data.get("retry_attempt"), "usd": None}
           for e in retry_events[:MAX_EXAMPLES]],
    }
