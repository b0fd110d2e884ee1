"""Prices every call in the ledger with the current price book, in SQL.

The ledger stores facts (tokens); cost is derived at audit time, so a new
price file re-prices history. Rates for each distinct (provider, model,
day) are looked up once and put in a temporary table; each call takes the
tier whose threshold its prompt exceeds (an ASOF join on prompt size).
"""

from __future__ import annotations

from datetime import date

import duckdb

from ..pricing import PRICED, PriceBook

NO_DAY = date(1970, 1, 1)  # calls without a timestamp are priced at today's rates


def create_priced_calls(con: duckdb.DuckDBPyConnection, book: PriceBook) -> dict[tuple, str]:
    """Create the temp view ``priced_calls``; return the origin of each model's prices."""
    keys = con.execute(
        """SELECT DISTINCT provider, model, coalesce(CAST(coalesce(started_at, ended_at) AT TIME ZONE 'UTC' AS DATE), ?)
           FROM calls WHERE model IS NOT NULL"""
        , [NO_DAY]
    ).fetchall()
    rows, origins = [], {}
    for provider, model, day in keys:
        rates = book.rates(provider, model, None if day == NO_DAY else day)
        if rates is None:
            continue
        origins[(provider, model)] = rates.origin
        for tier in rates.tiers:
            rows.append((provider or "", model, day, tier.above, *(getattr(tier, b) for b in PRICED)))
    con.execute("DROP VIEW IF EXISTS priced_calls")
    con.execute(
        """CREATE OR REPLACE TEMP TABLE rates (provider VARCHAR, model VARCHAR, day DATE, above BIGINT,
           r_input DOUBLE, r_cache_read DOUBLE, r_cache_write_5m DOUBLE, r_cache_write_1h DOUBLE, r_output DOUBLE)"""
    )
    for i in range(0, len(rows), 500):  # one statement per 500 rows: executemany is row-by-row
        chunk = rows[i:i + 500]
        con.execute("INSERT INTO rates VALUES " + ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?)"] * len(chunk)),
                    [v for row in chunk for v in row])
    bucket_costs = ",\n".join(f"c.{b} * r.r_{b} / 1e6 AS cost_{b}" for b in PRICED)
    con.execute(
        f"""CREATE TEMP VIEW priced_calls AS
        WITH c AS (
            SELECT * REPLACE (coalesce(run_id, call_id) AS run_id),  -- a call with no run is a run of its own
                   input + cache_read + cache_write_5m + cache_write_1h AS prompt,
                   coalesce(CAST(coalesce(started_at, ended_at) AT TIME ZONE 'UTC' AS DATE), DATE '{NO_DAY}') AS day
            FROM calls
        )
        SELECT c.*, r.model IS NOT NULL AS priced,
               {bucket_costs},
               ({' + '.join(f'c.{b} * r.r_{b}' for b in PRICED)}) / 1e6 AS cost
        FROM c ASOF LEFT JOIN rates r
          ON coalesce(c.provider, '') = r.provider AND c.model = r.model AND c.day = r.day AND c.prompt > r.above"""
    )
    return origins
