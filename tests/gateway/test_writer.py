"""The ledger writer: rows spill to disk while the database cannot be opened, and replay exactly once."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest

from inferaudit.gateway.writer import LedgerWriter
from inferaudit.ledger import Ledger
from inferaudit.usage import Call, Tokens


def call(i: int) -> Call:
    return Call(call_id=f"gateway:test-{i}", source="gateway", provider="openai", model="gpt-4o-mini",
                harness="test", tokens=Tokens(input=i, output=1), started_at=datetime.now(timezone.utc))


def wait_for(predicate, timeout=10.0):
    deadline = time.time() + timeout
    while not predicate():
        assert time.time() < deadline, "timed out"
        time.sleep(0.02)


@pytest.mark.parametrize("loader_nice", [None, 10], ids=["in-process", "loader-process"])
def test_rows_spill_while_the_ledger_is_unavailable_and_replay_once(tmp_path, loader_nice):
    ledger = tmp_path / "ledger.duckdb"
    ledger.mkdir()  # a directory where the database file should be: DuckDB cannot open it
    writer = LedgerWriter(ledger, batch_rows=10, flush_s=0.05, spill_dir=tmp_path / "spill", loader_nice=loader_nice)
    writer.start()
    for i in range(25):
        writer.submit(call(i))
    wait_for(lambda: writer.spilled == 25)
    assert sorted(p.suffix for p in (tmp_path / "spill").iterdir()) == [".ndjson"] * 3
    ledger.rmdir()  # the database is back
    writer.submit(call(25))
    wait_for(lambda: writer.written == 1 and not list((tmp_path / "spill").glob("*.ndjson")))
    writer.close()
    with Ledger(ledger, read_only=True) as opened:
        ids = [r[0] for r in opened.con.execute("SELECT call_id FROM calls ORDER BY input").fetchall()]
    assert ids == [f"gateway:test-{i}" for i in range(26)]  # every row once


def test_a_full_queue_goes_to_disk_not_to_waste(tmp_path):
    writer = LedgerWriter(tmp_path / "l.duckdb", batch_rows=1000, flush_s=60, max_rows=5, spill_dir=tmp_path / "spill")
    for i in range(8):  # not started: nothing drains the queue
        writer.submit(call(i))
    assert writer.pending == 5 and writer.spilled == 3
    writer.start()
    writer.close()  # flushes the queue and, first, replays the spill
    with Ledger(tmp_path / "l.duckdb", read_only=True) as opened:
        assert opened.con.execute("SELECT count(DISTINCT call_id) FROM calls").fetchone()[0] == 8


def test_a_batch_holding_a_known_call_id_keeps_the_known_row_and_writes_the_rest(tmp_path):
    ledger = tmp_path / "l.duckdb"
    first = LedgerWriter(ledger, spill_dir=tmp_path / "spill")
    first.start()
    first.submit(call(1))
    first.close()
    again = LedgerWriter(ledger, spill_dir=tmp_path / "spill")
    again.start()
    replayed = call(1)
    replayed.tokens = Tokens(input=999, output=1)  # the same id with other counts: the ledger's row wins
    for c in (call(0), replayed, call(2)):
        again.submit(c)
    again.close()
    with Ledger(ledger, read_only=True) as opened:
        rows = opened.con.execute("SELECT call_id, input FROM calls ORDER BY call_id").fetchall()
    assert rows == [("gateway:test-0", 0), ("gateway:test-1", 1), ("gateway:test-2", 2)]
    assert again.written == 3 and again.spilled == 0


def test_the_gateway_config_takes_the_loader_nice_value_and_refuses_a_bad_one(tmp_path):
    from inferaudit.gateway.config import ConfigError, GatewayConfig

    base = "providers: {openai: {base_url: 'http://127.0.0.1:9', protocol: openai-chat}}\n"
    (tmp_path / "ok.yaml").write_text(base + "ledger_loader_nice: 3\n")
    assert GatewayConfig.load(tmp_path / "ok.yaml").ledger_loader_nice == 3
    (tmp_path / "default.yaml").write_text(base)
    assert GatewayConfig.load(tmp_path / "default.yaml").ledger_loader_nice == 10
    (tmp_path / "bad.yaml").write_text(base + "ledger_loader_nice: 25\n")
    with pytest.raises(ConfigError, match="ledger_loader_nice must be a whole number from 0 to 19, not 25"):
        GatewayConfig.load(tmp_path / "bad.yaml")
