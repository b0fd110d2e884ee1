"""The PostgreSQL ledger: migrations, idempotent inserts, indexed spend queries at a million rows."""

from __future__ import annotations

import threading

import pytest

from inferaudit.ledger import LedgerError
from inferaudit.ledger.postgres import SPEND_SQL, PostgresLedger

pytest.importorskip("psycopg")


def row(i: int, user: str = "alice", day: int = 1) -> dict:
    return {"call_id": f"c{i}", "source": "gateway", "provider": "openai", "model": "gpt-4o-mini",
            "started_at": f"2026-11-{day:02d}T10:00:00+00:00", "input": 10 + i, "cache_read": 0, "cache_write_5m": 0,
            "cache_write_1h": 0, "output": 5, "reasoning": 0, "status": "ok", "attempt": 1, "tool_calls": 0,
            "user_id": user, "feature": "search", "tags": {"team": "core"}}


def test_replicas_starting_together_migrate_once_and_insert_each_call_once(postgres):
    opened, errors = [], []

    def start():
        try:
            opened.append(PostgresLedger(postgres))
        except Exception as exc:  # pragma: no cover - the assertion below shows it
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(opened) == 4
    first, second = opened[0], opened[1]
    assert first.insert_calls([row(1), row(2)]) == 2
    assert second.insert_calls([row(2), row(3)]) == 1  # c2 is already there: a retried batch adds nothing
    assert first.count() == 3
    assert first.spend("user_id", "2026-11-01", "2026-12-01") == [("alice", 3, 11 + 12 + 13, 0, 15)]
    with first.con.cursor() as cur:
        cur.execute("SELECT tags->>'team' FROM calls WHERE call_id = 'c1'")
        assert cur.fetchone() == ("core",)
        cur.execute("SELECT count(*) FROM schema_migrations")
        assert cur.fetchone() == (2,)
    for ledger in opened:
        ledger.close()


def test_an_unreachable_server_is_a_clear_ledger_error():
    with pytest.raises(LedgerError, match="cannot open the PostgreSQL ledger"):
        PostgresLedger("postgresql://postgres@127.0.0.1:1/none", connect_timeout=1)


def test_spend_queries_stay_on_indexes_at_a_million_rows(postgres):
    with PostgresLedger(postgres) as ledger, ledger.con.cursor() as cur:
        cur.execute("""
            INSERT INTO calls (call_id, source, model, user_id, feature, started_at, input, cache_read,
                               cache_write_5m, cache_write_1h, output, reasoning, status, attempt, tool_calls)
            SELECT 'c' || g, 'gateway', 'model-' || (g % 7), 'user-' || (g % 500), 'feature-' || (g % 40),
                   timestamptz '2026-09-01' + (g * interval '5 seconds'), 100, 0, 0, 0, 10, 0, 'ok', 1, 0
            FROM generate_series(1, 1000000) AS g""")
        cur.execute("ANALYZE calls")
        ledger.con.commit()
        window = ("2026-10-01", "2026-10-02")  # one day of the 58 the rows span
        for query in SPEND_SQL:
            params = (("user-7",) if query == "one_user_id" else ("feature-3",) if query == "one_feature"
                      else ("model-2",) if query == "one_model" else ()) + window
            plan = ledger.explain(query, *params)
            assert "Seq Scan on calls" not in plan, f"{query}:\n{plan}"
        from inferaudit.ledger import Ledger

        with Ledger(":memory:") as analysis:  # what `spend` / `distill` copy out of PostgreSQL for a window
            assert ledger.copy_calls_into(analysis.con, *window) == 17280
        select, params = ledger.last_copy_sql
        plan = ledger.explain(select, *params)
        assert "Seq Scan on calls" not in plan, plan
        total = ledger.spend("total", *window)
        assert total == [(17280, 1728000, 172800)]  # 86,400 s / 5 s per row
