"""Numbered schema migrations, each recorded in ``schema_migrations`` once applied.

A migration is a function that takes a connection; append new ones, never
edit an applied one.
"""

from __future__ import annotations

from typing import Callable

import duckdb

_BUCKET_COLUMNS = """
    input BIGINT NOT NULL DEFAULT 0,
    cache_read BIGINT NOT NULL DEFAULT 0,
    cache_write_5m BIGINT NOT NULL DEFAULT 0,
    cache_write_1h BIGINT NOT NULL DEFAULT 0,
    output BIGINT NOT NULL DEFAULT 0,
    reasoning BIGINT NOT NULL DEFAULT 0
"""


def m001_initial(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"""
        CREATE TABLE calls (
            call_id VARCHAR PRIMARY KEY,
            source VARCHAR NOT NULL,
            provider VARCHAR,
            model VARCHAR,
            harness VARCHAR,
            run_id VARCHAR,
            session_id VARCHAR,
            started_at TIMESTAMPTZ,
            first_token_at TIMESTAMPTZ,
            ended_at TIMESTAMPTZ,
            {_BUCKET_COLUMNS},
            cost_reported DOUBLE,
            status VARCHAR NOT NULL DEFAULT 'ok',
            attempt INTEGER NOT NULL DEFAULT 1,
            tool_calls INTEGER NOT NULL DEFAULT 0,
            user_id VARCHAR,
            feature VARCHAR,
            tags JSON,
            spec_draft_tokens BIGINT,
            spec_accepted_tokens BIGINT,
            spec_steps BIGINT,
            source_file VARCHAR,
            source_line INTEGER
        )""")
    con.execute("""
        CREATE TABLE runs (
            run_id VARCHAR PRIMARY KEY,
            source VARCHAR NOT NULL,
            harness VARCHAR,
            model VARCHAR,
            provider VARCHAR,
            cache_policy VARCHAR,
            benchmark VARCHAR,
            task_id VARCHAR,
            outcome VARCHAR NOT NULL DEFAULT 'unknown',
            verified_by VARCHAR,
            started_at TIMESTAMPTZ,
            ended_at TIMESTAMPTZ,
            wall_time_s DOUBLE,
            cost_reported DOUBLE,
            calls_reported INTEGER,
            tokens_reported JSON,
            source_file VARCHAR
        )""")
    con.execute("""
        CREATE TABLE events (
            event_id VARCHAR PRIMARY KEY,
            kind VARCHAR NOT NULL,
            source VARCHAR NOT NULL,
            occurred_at TIMESTAMPTZ,
            run_id VARCHAR,
            session_id VARCHAR,
            data JSON,
            source_file VARCHAR,
            source_line INTEGER
        )""")
    con.execute("""
        CREATE TABLE published (
            grp VARCHAR NOT NULL,
            benchmark VARCHAR NOT NULL,
            harness VARCHAR,
            model VARCHAR,
            success_rate DOUBLE,
            cost_per_run DOUBLE,
            wall_time_s DOUBLE,
            source_file VARCHAR,
            PRIMARY KEY (grp, benchmark)
        )""")
    con.execute("""
        CREATE TABLE files (
            path VARCHAR PRIMARY KEY,
            source VARCHAR NOT NULL,
            fingerprint VARCHAR NOT NULL,
            head_hash VARCHAR,
            size BIGINT NOT NULL,
            "offset" BIGINT NOT NULL,
            line BIGINT NOT NULL,
            state JSON,
            read_at TIMESTAMPTZ NOT NULL
        )""")
    con.execute("""
        CREATE TABLE problems (
            file VARCHAR NOT NULL,
            line INTEGER,
            reason VARCHAR NOT NULL
        )""")
    con.execute("CREATE INDEX calls_run ON calls (run_id)")
    con.execute("CREATE INDEX problems_file ON problems (file)")


def m002_generation_and_report_cache(con: duckdb.DuckDBPyConnection) -> None:
    """A counter bumped by every import that changes the ledger, and audits cached against it."""
    con.execute("CREATE TABLE state (key VARCHAR PRIMARY KEY, value BIGINT NOT NULL)")
    con.execute("INSERT INTO state VALUES ('generation', 0)")
    con.execute("""
        CREATE TABLE report_cache (
            key VARCHAR PRIMARY KEY,
            generation BIGINT NOT NULL,
            report JSON NOT NULL,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )""")


MIGRATIONS: list[Callable[[duckdb.DuckDBPyConnection], None]] = [m001_initial, m002_generation_and_report_cache]


def migrate(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Apply every migration not yet recorded; return the numbers applied."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR, applied_at TIMESTAMPTZ DEFAULT now())"
    )
    done = {row[0] for row in con.execute("SELECT version FROM schema_migrations").fetchall()}
    applied = []
    for number, migration in enumerate(MIGRATIONS, 1):
        if number in done:
            continue
        con.execute("BEGIN")
        try:
            migration(con)
            con.execute("INSERT INTO schema_migrations (version, name) VALUES (?, ?)", [number, migration.__name__])
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        applied.append(number)
    return applied
