"""One row per run: its triple, outcome, cost, tokens, calls and wall time.

Runs with calls take their cost from the priced calls (the reported cost
is kept beside it); runs without calls (result sets) take the reported
cost. Calls whose run was never recorded become runs of their own, so
nothing that was imported is left out of the audit.

The triple's model is the run's own when the source names one; else the
model that cost most in the run (a Claude Code session mixes Opus with
Haiku side calls, but it is an Opus session). The cache policy is the
source's when known; else derived from what the calls did: ``1h`` /
``5m`` / ``5m+1h`` (explicit cache writes by TTL), ``auto`` (cache reads
without writes: provider-automatic prefix caching), or ``none``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb

from ..pricing import PRICED
from ..usage import BUCKETS

_RUNS_SQL = f"""
WITH per_model AS (
    SELECT run_id, model, sum(coalesce(cost, 0)) AS c, sum(prompt + output) AS t
    FROM priced_calls GROUP BY run_id, model
), primary_model AS (
    SELECT run_id, arg_max(model, c * 1e9 + t) AS model FROM per_model GROUP BY run_id
), rc AS (
    SELECT run_id,
           count(*) AS calls,
           {", ".join(f"sum({b}) AS {b}" for b in BUCKETS)},
           sum(cost) FILTER (WHERE priced) AS cost,
           {", ".join(f"sum(cost_{b}) FILTER (WHERE priced) AS cost_{b}" for b in PRICED)},
           coalesce(sum(prompt + output) FILTER (WHERE NOT priced), 0) AS unpriced_tokens,
           count(*) FILTER (WHERE NOT priced) AS unpriced_calls,
           sum(cost_reported) AS reported, count(cost_reported) AS n_reported,
           min(coalesce(started_at, ended_at)) AS first_at, max(coalesce(ended_at, started_at)) AS last_at,
           sum(cache_write_1h) > 0 AS w1, sum(cache_write_5m) > 0 AS w5, sum(cache_read) > 0 AS cr,
           any_value(harness) AS harness, any_value(provider) AS provider, any_value(session_id) AS session_id
    FROM priced_calls GROUP BY run_id
)
SELECT coalesce(r.run_id, rc.run_id) AS run_id,
       coalesce(r.harness, rc.harness, 'unknown') AS harness,
       coalesce(r.model, pm.model, 'unknown') AS model,
       coalesce(r.cache_policy, CASE WHEN rc.w1 AND rc.w5 THEN '5m+1h' WHEN rc.w1 THEN '1h' WHEN rc.w5 THEN '5m'
                                     WHEN rc.cr THEN 'auto' WHEN rc.calls > 0 THEN 'none' END, 'unknown') AS cache_policy,
       r.benchmark, coalesce(r.outcome, 'unknown') AS outcome, r.verified_by,
       rc.calls, r.calls_reported,
       {", ".join(f"rc.{b}" for b in BUCKETS)},
       rc.cost, {", ".join(f"rc.cost_{b}" for b in PRICED)},
       coalesce(rc.unpriced_tokens, 0) AS unpriced_tokens, coalesce(rc.unpriced_calls, 0) AS unpriced_calls,
       CASE WHEN rc.n_reported > 0 THEN rc.reported END AS calls_reported_cost,
       r.cost_reported,
       coalesce(r.started_at, rc.first_at) AS started_at, coalesce(r.ended_at, rc.last_at) AS ended_at,
       coalesce(r.wall_time_s, epoch(coalesce(r.ended_at, rc.last_at) - coalesce(r.started_at, rc.first_at))) AS wall_time_s,
       coalesce(r.source, 'calls') AS source, r.source_file, rc.session_id, r.task_id
FROM runs r
FULL JOIN rc ON r.run_id = rc.run_id
LEFT JOIN primary_model pm ON pm.run_id = coalesce(r.run_id, rc.run_id)
"""


@dataclass(slots=True)
class RunRow:
    run_id: str
    harness: str
    model: str
    cache_policy: str
    benchmark: str | None
    outcome: str
    verified_by: str | None
    calls: int | None
    calls_reported: int | None
    tokens: dict[str, int]
    cost_computed: float | None
    cost_by_bucket: dict[str, float] | None
    unpriced_tokens: int
    unpriced_calls: int
    calls_reported_cost: float | None
    cost_reported: float | None
    started_at: datetime | None
    ended_at: datetime | None
    wall_time_s: float | None
    source: str
    source_file: str | None
    session_id: str | None
    task_id: str | None

    @property
    def cost(self) -> float | None:
        """Computed from calls where there are calls; else what the source reported.

        A result set's 0.0 is a missing figure, not a free run (a known
        OpenHands Index data issue): it is treated as unknown, and the checks
        warn about it.
        """
        if self.calls:
            if self.cost_computed is None and self.unpriced_calls:
                return None
            return self.cost_computed or 0.0
        return self.cost_reported or None

    @property
    def n_calls(self) -> int | None:
        return self.calls if self.calls else self.calls_reported


def load_runs(con: duckdb.DuckDBPyConnection, benchmark: str | None = None) -> list[RunRow]:
    """Every run in the ledger (priced_calls must exist), optionally of one benchmark."""
    sql = _RUNS_SQL
    params: list = []
    if benchmark is not None:
        sql = f"SELECT * FROM ({_RUNS_SQL}) WHERE benchmark = ?"
        params.append(benchmark)
    rows = []
    for rec in con.execute(sql, params).fetchall():
        it = iter(rec)
        run_id, harness, model, cache_policy, bench, outcome, verified_by, calls, calls_reported = (next(it) for _ in range(9))
        tokens = {b: int(next(it) or 0) for b in BUCKETS}
        cost = next(it)
        by_bucket = {b: next(it) for b in PRICED}
        unpriced_tokens, unpriced_calls, calls_reported_cost, cost_reported = (next(it) for _ in range(4))
        started_at, ended_at, wall, source, source_file, session_id, task_id = (next(it) for _ in range(7))
        rows.append(RunRow(
            run_id, harness, model, cache_policy, bench, outcome, verified_by, calls, calls_reported, tokens, cost,
            by_bucket if calls and cost is not None else None, int(unpriced_tokens), int(unpriced_calls),
            calls_reported_cost, cost_reported, started_at, ended_at, wall, source, source_file, session_id, task_id,
        ))
    return rows
