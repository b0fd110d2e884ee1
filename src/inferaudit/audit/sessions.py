"""Sessions: the runs that have calls, with their cost over time."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import duckdb

from .runs import RunRow

MAX_POINTS = 200  # per session timeline, about: enough for a chart, small enough for a report


def sessions(con: duckdb.DuckDBPyConnection, runs: list[RunRow]) -> list[dict[str, Any]]:
    with_calls = {r.run_id: r for r in runs if r.calls}
    if not with_calls:
        return []
    timelines: dict[str, list] = defaultdict(list)
    rows = con.execute(
        f"""WITH c AS (
                SELECT run_id, coalesce(ended_at, started_at) AS t,
                       sum(coalesce(cost, 0)) OVER w AS cum, row_number() OVER w AS i, count(*) OVER (PARTITION BY run_id) AS n
                FROM priced_calls WHERE coalesce(ended_at, started_at) IS NOT NULL
                WINDOW w AS (PARTITION BY run_id ORDER BY coalesce(ended_at, started_at), call_id)
            )
            SELECT run_id, strftime(t AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%g+00:00'), cum FROM c
            WHERE n <= {MAX_POINTS} OR i = n OR i % CAST(ceil(n / {MAX_POINTS - 1}) AS BIGINT) = 1
            ORDER BY run_id, i"""
    ).fetchall()
    for run_id, t, cum in rows:
        timelines[run_id].append([t, cum])
    out = []
    for run_id, run in with_calls.items():
        out.append({
            "id": run.session_id or run_id,
            "run_id": run_id,
            "model": run.model,
            "harness": run.harness,
            "cache_policy": run.cache_policy,
            "calls": run.calls,
            "tokens": run.tokens,
            "cost_usd": run.cost,
            "unpriced_tokens": run.unpriced_tokens,
            "start": run.started_at.isoformat() if run.started_at else None,
            "end": run.ended_at.isoformat() if run.ended_at else None,
            "wall_time_s": run.wall_time_s,
            "timeline": timelines.get(run_id, []),
        })
    out.sort(key=lambda s: -(s["cost_usd"] or 0))
    return out
