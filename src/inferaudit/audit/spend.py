"""Who and what spends: cost by user, feature and model per day, week or month.

Every call is priced one by one (``priced_calls``: the same engine as the
audit, per-call long-context tiers included), then summed per period and
group. Calls of models the price book does not know are counted apart with
their tokens, never as $0.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Sequence

import duckdb

from ..pricing import PriceBook
from ..usage import BUCKETS
from .costs import create_priced_calls

GROUPS = {"user": "user_id", "feature": "feature", "model": "model", "provider": "provider", "harness": "harness",
          "team": "json_extract_string(tags, '$.team')", "key": "json_extract_string(tags, '$.key')"}
PERIODS = ("day", "week", "month")
AT = "coalesce(started_at, ended_at)"  # a call's time: some logs time a call by its end only (Codex)


def window(since: datetime | None, until: datetime | None) -> tuple[list[str], list[Any]]:
    """SQL conditions (and their parameters) for calls in [since, until)."""
    where, params = [], []
    if since:
        where.append(f"{AT} >= ?")
        params.append(since)
    if until:
        where.append(f"{AT} < ?")
        params.append(until)
    return where, params


def spend(con: duckdb.DuckDBPyConnection, book: PriceBook, by: Sequence[str] = ("user", "feature", "model"),
          period: str = "month", since: datetime | None = None, until: datetime | None = None) -> dict[str, Any]:
    """Rows of ``{period, <by...>, calls, cost_usd, unpriced_calls, <buckets>}``, newest period first, by cost."""
    unknown = [b for b in by if b not in GROUPS]
    if unknown:
        raise ValueError(f"cannot group spend by {', '.join(unknown)}; choose from {', '.join(GROUPS)}")
    if period not in PERIODS:
        raise ValueError(f"period must be one of {', '.join(PERIODS)}, not {period!r}")
    create_priced_calls(con, book)
    columns = ", ".join(f"{GROUPS[b]} AS \"{b}\"" for b in by)
    where, params = window(since, until)
    where.append(f"{AT} IS NOT NULL")
    sums = ", ".join(f"sum({b}) AS {b}" for b in BUCKETS)
    cursor = con.execute(
        f"""SELECT strftime(date_trunc('{period}', {AT} AT TIME ZONE 'UTC'), '%Y-%m-%d') AS period, {columns},
                   count(*) AS calls, sum(cost) FILTER (WHERE priced) AS cost_usd,
                   count(*) FILTER (WHERE NOT priced) AS unpriced_calls, {sums}
            FROM priced_calls WHERE {' AND '.join(where)}
            GROUP BY ALL ORDER BY period DESC, cost_usd DESC NULLS LAST""", params)
    names = [d[0] for d in cursor.description]
    rows = [dict(zip(names, row)) for row in cursor.fetchall()]
    total = sum(r["cost_usd"] or 0.0 for r in rows)
    undated = con.execute(f"SELECT count(*) FROM calls WHERE {AT} IS NULL").fetchone()[0]
    return {"by": list(by), "period": period, "since": since.isoformat() if since else None,
            "until": until.isoformat() if until else None, "total_usd": total,
            "unpriced_calls": sum(r["unpriced_calls"] for r in rows), "undated_calls": undated, "rows": rows}
