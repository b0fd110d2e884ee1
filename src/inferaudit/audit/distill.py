"""The distillation backlog: which endpoints (feature x model) are worth distilling into a small model.

An endpoint is a good candidate when three things hold at once: it spends
a lot, its outputs can be checked (a verifier exists: declared by the
user, or Runs of that endpoint carry verified outcomes in the ledger), and
its input is stable (most of its calls come from one prompt template: the
gateway tags each call with a hash of its system prompt and tool names).
The backlog lists those first, then the rest by spend, each with the
saving expected if its tokens were billed at the small model's prices
(the same token counts: a small model's would differ, so this is an
estimate, labelled as such).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Iterable

import duckdb

from ..pricing import PriceBook
from ..usage import BUCKETS, Tokens
from .costs import create_priced_calls
from .spend import window


def backlog(con: duckdb.DuckDBPyConnection, book: PriceBook, small_model: str, small_provider: str | None = None,
            verifiers: Iterable[str] = (), stable_at: float = 0.8, since: datetime | None = None,
            until: datetime | None = None) -> dict[str, Any]:
    """Endpoints ranked: verified and stable first, then by spend; see the module docstring."""
    small = book.rates(small_provider, small_model, date.today())
    if small is None:
        raise ValueError(f"no prices for the small model {small_model!r}: give --prices or another model")
    create_priced_calls(con, book)
    where, params = window(since, until)
    where.append("model IS NOT NULL")
    sums = ", ".join(f"sum({b}) AS {b}" for b in BUCKETS)
    rows = con.execute(f"""
        WITH c AS (SELECT *, json_extract_string(tags, '$.template') AS template FROM priced_calls
                   WHERE {' AND '.join(where)}),
        endpoints AS (
            SELECT feature, provider, model, count(*) AS calls, sum(cost) FILTER (WHERE priced) AS cost_usd,
                   count(*) FILTER (WHERE NOT priced) AS unpriced_calls, count(DISTINCT template) AS templates, {sums}
            FROM c GROUP BY ALL),
        shares AS (
            SELECT feature, provider, model, max(n) AS top FROM (
                SELECT feature, provider, model, template, count(*) AS n FROM c WHERE template IS NOT NULL GROUP BY ALL
            ) GROUP BY ALL),
        verified AS (
            SELECT c.feature, c.provider, c.model, count(DISTINCT r.run_id) AS runs FROM c
            JOIN runs r ON r.run_id = c.run_id
            WHERE r.verified_by IS NOT NULL AND r.outcome IN ('resolved', 'failed') GROUP BY ALL)
        SELECT e.*, coalesce(s.top, 0) / e.calls AS stability, coalesce(v.runs, 0) AS verified_runs
        FROM endpoints e
        LEFT JOIN shares s ON s.feature IS NOT DISTINCT FROM e.feature AND s.provider IS NOT DISTINCT FROM e.provider
                          AND s.model = e.model
        LEFT JOIN verified v ON v.feature IS NOT DISTINCT FROM e.feature AND v.provider IS NOT DISTINCT FROM e.provider
                            AND v.model = e.model""", params)
    names = [d[0] for d in rows.description]
    declared = set(verifiers)
    out = []
    for row in map(lambda r: dict(zip(names, r)), rows.fetchall()):
        tokens = Tokens(**{b: int(row.pop(b) or 0) for b in BUCKETS})
        small_cost = small.tiers[0].cost(tokens)  # base tier: summed prompts are not one prompt
        row["tokens"] = {b: getattr(tokens, b) for b in BUCKETS}
        row["verifier"] = "declared" if row["feature"] in declared else ("ledger runs" if row["verified_runs"] else None)
        row["stable"] = row["stability"] >= stable_at
        row["candidate"] = bool(row["verifier"]) and row["stable"]
        row["small_model_cost_usd"] = small_cost
        row["saving_usd"] = (row["cost_usd"] - small_cost) if row["cost_usd"] is not None else None
        out.append(row)
    out.sort(key=lambda r: (not r["candidate"], -(r["cost_usd"] or 0.0)))
    return {"small_model": small_model, "small_provider": small_provider, "stable_at": stable_at,
            "saving_is": "estimate: the same token counts at the small model's prices", "endpoints": out}
