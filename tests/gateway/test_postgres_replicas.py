"""Two gateway replicas writing to one PostgreSQL ledger under load; an outage spills and replays once."""

from __future__ import annotations

import asyncio
import time

import pytest

from inferaudit.ledger.postgres import PostgresLedger
from inferaudit.testing.gateway import GatewayThread

from inferaudit.testing.traffic import drive

pytest.importorskip("psycopg")


def wait_for_rows(dsn: str, expected: int, timeout: float = 20.0) -> int:
    deadline = time.time() + timeout
    while True:
        with PostgresLedger(dsn) as ledger:
            count = ledger.count()
        if count >= expected or time.time() > deadline:
            return count
        time.sleep(0.2)


def test_two_replicas_under_load_write_one_row_per_upstream_attempt(emulator, postgres, config_for, tmp_path):
    emulator.reset()
    kinds = [("openai", False), ("openai", True), ("anthropic", False), ("anthropic", True)]
    faults = [""] * 6 + ["429@1", "503@1", "reset-mid-stream"]
    jobs = [(kind, stream, fault, i) for i, (fault, (kind, stream)) in
            enumerate((f, k) for f in faults for k in kinds)] * 3
    jobs = [(k, s, f, n) for n, (k, s, f, _) in enumerate(jobs)]  # every request its own body
    with GatewayThread(config_for(postgres, spill_dir=str(tmp_path / "a"))) as first, \
            GatewayThread(config_for(postgres, spill_dir=str(tmp_path / "b"))) as second:
        half = len(jobs) // 2

        async def both():
            return await asyncio.gather(drive(first.url, jobs[:half]), drive(second.url, jobs[half:]))

        replies = asyncio.run(both())
    assert sum(len(r) for r in replies) == len(jobs)
    received = len(emulator.requests)
    assert received > len(jobs)  # the retried faults cost extra attempts
    with PostgresLedger(postgres) as ledger:  # the replicas flushed on exit
        assert ledger.count() == received
        with ledger.con.cursor() as cur:
            cur.execute("SELECT count(DISTINCT call_id), count(*) FILTER (WHERE status = 'ok') FROM calls")
            distinct, ok = cur.fetchone()
    assert distinct == received
    assert ok == sum(r.outcome == "ok" for r in emulator.requests)


def test_rows_spill_while_postgres_is_down_and_replay_exactly_once(emulator, config_for, tmp_path):
    from inferaudit.testing.postgres import PostgresCluster

    emulator.reset()
    jobs = [("openai", False, "", i) for i in range(10)]
    with PostgresCluster() as pg:
        with PostgresLedger(pg.dsn):
            pass  # migrated
        config = config_for(pg.dsn, spill_dir=str(tmp_path / "spill"))
        with GatewayThread(config) as gateway:
            asyncio.run(drive(gateway.url, jobs[:4]))
            assert wait_for_rows(pg.dsn, 4) == 4
            pg.stop()
            asyncio.run(drive(gateway.url, jobs[4:]))  # answered while the ledger is down
            deadline = time.time() + 10
            while not list((tmp_path / "spill").glob("calls-*.ndjson")) and time.time() < deadline:
                time.sleep(0.1)
            assert list((tmp_path / "spill").glob("calls-*.ndjson")), "rows were not spilled"
            pg.start()
            assert wait_for_rows(pg.dsn, 10) == 10
        with PostgresLedger(pg.dsn) as ledger:
            assert ledger.count() == 10 == len(emulator.requests)
        assert not list((tmp_path / "spill").glob("calls-*.ndjson"))
