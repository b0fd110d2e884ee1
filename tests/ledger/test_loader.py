"""The ledger loader process: batches written from outside the server, failures reported, restarts."""

from __future__ import annotations

import sys
from datetime import datetime, timezone

import orjson
import pytest

from inferaudit.ledger import Ledger, LedgerError
from inferaudit.ledger.loader import LoaderProcess, LocalLoader
from inferaudit.ledger.staging import call_row, stage_path
from inferaudit.usage import Call, Tokens


def stage(folder, ids):
    folder.mkdir()
    rows = [call_row(Call(call_id=f"gateway:{i}", source="gateway", provider="openai", model="gpt-4o-mini",
                          harness="test", tokens=Tokens(input=10, cache_read=i, output=2),
                          started_at=datetime.now(timezone.utc))) for i in ids]
    stage_path(folder, "calls", "gw").write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    return folder


def ledger_rows(path):
    with Ledger(path, read_only=True) as opened:
        return opened.con.execute("SELECT call_id, cache_read FROM calls ORDER BY cache_read").fetchall()


def test_the_loader_process_writes_batches_and_keeps_known_rows(tmp_path):
    ledger = tmp_path / "l.duckdb"
    loader = LoaderProcess(ledger)
    try:
        assert loader.load(stage(tmp_path / "a", [0, 1])) == 2
        assert loader.load(stage(tmp_path / "b", [1, 2])) == 1  # a replayed id is kept once
    finally:
        loader.close()
    assert ledger_rows(ledger) == [("gateway:0", 0), ("gateway:1", 1), ("gateway:2", 2)]


def test_a_ledger_that_cannot_be_opened_is_an_error_naming_it_and_the_next_batch_retries(tmp_path):
    ledger = tmp_path / "l.duckdb"
    ledger.mkdir()  # a folder where the database file should be
    loader = LoaderProcess(ledger)
    try:
        with pytest.raises(LedgerError, match="cannot open ledger"):
            loader.load(stage(tmp_path / "a", [0]))
        ledger.rmdir()
        assert loader.load(stage(tmp_path / "b", [1])) == 1  # the same process opens it now
    finally:
        loader.close()
    assert ledger_rows(ledger) == [("gateway:1", 1)]


def test_a_dead_loader_is_started_again_for_the_next_batch(tmp_path):
    ledger = tmp_path / "l.duckdb"
    loader = LoaderProcess(ledger)
    try:
        assert loader.load(stage(tmp_path / "a", [0])) == 1
        first = loader._proc
        first.kill()
        first.wait()
        assert loader.load(stage(tmp_path / "b", [1])) == 1
        assert loader._proc.pid != first.pid
    finally:
        loader.close()
    assert ledger_rows(ledger) == [("gateway:0", 0), ("gateway:1", 1)]


def test_a_loader_that_dies_during_a_batch_is_an_error_for_that_batch(tmp_path, monkeypatch):
    loader = LoaderProcess(tmp_path / "l.duckdb")
    monkeypatch.setattr(sys, "executable", "/bin/true")  # a "loader" that exits without an answer
    with pytest.raises(LedgerError, match="loader process ended"):
        loader.load(stage(tmp_path / "a", [0]))
    monkeypatch.undo()
    try:
        assert loader.load(stage(tmp_path / "b", [1])) == 1
    finally:
        loader.close()


def test_close_ends_the_process_and_releases_the_ledger(tmp_path):
    ledger = tmp_path / "l.duckdb"
    loader = LoaderProcess(ledger)
    loader.load(stage(tmp_path / "a", [0]))
    proc = loader._proc
    loader.close()
    assert proc.poll() == 0
    with Ledger(ledger) as opened:  # a writable open: no other process holds the file
        assert opened.con.execute("SELECT count(*) FROM calls").fetchone()[0] == 1


def test_an_in_memory_ledger_loads_in_process(tmp_path):
    loader = LocalLoader(":memory:")
    assert loader.load(stage(tmp_path / "a", [0, 1])) == 2
    assert loader._sink.ledger.con.execute("SELECT count(*) FROM calls").fetchone()[0] == 2
    loader.close()


def test_the_loader_runs_at_the_nice_value_it_is_given(tmp_path):
    import os

    loader = LoaderProcess(tmp_path / "l.duckdb", nice=7)
    try:
        loader.load(stage(tmp_path / "a", [0]))
        mine = os.getpriority(os.PRIO_PROCESS, 0)
        assert os.getpriority(os.PRIO_PROCESS, loader._proc.pid) == min(mine + 7, 19)
    finally:
        loader.close()
