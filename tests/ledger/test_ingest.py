"""The ledger: migrations, idempotent and incremental ingest, problems kept per file."""

import importlib
import os
import shutil

import duckdb
import pytest

from inferaudit.ledger import ENV_VAR, Ledger, LedgerError, default_path, ingest


def totals(ledger):
    return ledger.con.execute(
        "SELECT count(*), sum(input), sum(cache_read), sum(cache_write_5m), sum(cache_write_1h), sum(output) FROM calls"
    ).fetchone()


def test_migrations_are_numbered_and_applied_once(tmp_path):
    path = tmp_path / "l.duckdb"
    with Ledger(path) as ledger:
        first = ledger.con.execute("SELECT version, name FROM schema_migrations").fetchall()
    with Ledger(path) as ledger:
        again = ledger.con.execute("SELECT version, name FROM schema_migrations").fetchall()
    assert first == again == [(1, "m001_initial"), (2, "m002_generation_and_report_cache")]


def test_default_path_follows_the_env_var(monkeypatch, tmp_path):
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "x.duckdb"))
    assert default_path() == tmp_path / "x.duckdb"
    monkeypatch.delenv(ENV_VAR)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_path() == tmp_path / "inferaudit" / "ledger.duckdb"


def test_importing_twice_adds_nothing(ledger, samples):
    first = ingest(ledger, [samples / "claude-code", samples / "codex"])
    assert first.read == 12 and first.records["calls"] == 695
    counts = ledger.counts()
    second = ingest(ledger, [samples / "claude-code", samples / "codex"])
    assert second.skipped == 12 and second.read == 0 and second.bytes_read == 0
    assert ledger.counts() == counts
    assert totals(ledger) == (695, 808099, 58372270, 937099, 276819, 192196)


def test_touched_but_unchanged_file_is_reread_without_duplicates(ledger, samples, tmp_path):
    copy = tmp_path / "logs"
    shutil.copytree(samples / "codex", copy)
    ingest(ledger, [copy])
    before = totals(ledger)
    for f in copy.iterdir():
        os.utime(f, (1, 1))  # new mtime, same bytes: read again, nothing added
    summary = ingest(ledger, [copy])
    assert summary.resumed + summary.read == 3
    assert totals(ledger) == before


def test_appended_log_is_read_from_its_last_offset(ledger, samples, tmp_path):
    src = next((samples / "claude-code" / "spotter").glob("*.jsonl"))
    lines = src.read_bytes().splitlines(keepends=True)
    log = tmp_path / "projects" / "p" / src.name
    log.parent.mkdir(parents=True)
    log.write_bytes(b"".join(lines[:700]))
    ingest(ledger, [log.parent])
    partial = totals(ledger)
    with open(log, "ab") as fh:
        fh.write(b"".join(lines[700:]))
    summary = ingest(ledger, [log.parent])
    assert summary.resumed == 1 and summary.read == 0
    assert summary.bytes_read == len(b"".join(lines[700:]))
    with Ledger(tmp_path / "whole.duckdb") as whole:
        ingest(whole, [src])
        assert totals(ledger) == totals(whole) != partial


def test_rewritten_file_is_read_from_the_start(ledger, tmp_path, samples):
    log = tmp_path / "a.jsonl"
    src = next((samples / "codex").glob("*.jsonl"))
    data = src.read_bytes()
    log.write_bytes(data)
    ingest(ledger, [log])
    log.write_bytes(b"{broken\n" + data[: len(data) // 2])
    summary = ingest(ledger, [log])
    assert summary.read == 1
    problems = ledger.con.execute("SELECT file, line FROM problems").fetchall()
    assert (str(log), 1) in problems


def test_problems_are_kept_with_file_and_line_and_replaced_on_reread(ledger, tmp_path):
    log = tmp_path / "s.jsonl"
    good = '{"parentUuid":null,"type":"assistant","sessionId":"s","uuid":"u1","requestId":"r","timestamp":"2026-01-01T00:00:00Z","message":{"id":"m","model":"claude-haiku-4-5","usage":{"input_tokens":1,"output_tokens":2}}}\n'
    log.write_text(good + "not json\n")
    ingest(ledger, [tmp_path])
    assert ledger.con.execute("SELECT file, line FROM problems").fetchall() == [(str(log), 2)]
    ingest(ledger, [tmp_path])  # unchanged: the problem stays listed once
    assert ledger.con.execute("SELECT count(*) FROM problems").fetchone()[0] == 1


def test_unknown_format_is_reported_not_fatal(ledger, tmp_path):
    (tmp_path / "notes.json").write_text('{"hello": "world"}')
    summary = ingest(ledger, [tmp_path])
    assert summary.unknown == 1
    assert ledger.con.execute("SELECT reason FROM problems").fetchone()[0].startswith("unknown format")


def test_parallel_and_serial_ingest_agree(tmp_path, samples, monkeypatch):
    ingest_module = importlib.import_module("inferaudit.ledger.ingest")

    monkeypatch.setattr(ingest_module, "PARALLEL_MIN_BYTES", 0)
    with Ledger(tmp_path / "p.duckdb") as parallel, Ledger(tmp_path / "s.duckdb") as serial:
        ingest(parallel, [samples / "claude-code", samples / "codex"], workers=2)
        ingest(serial, [samples / "claude-code", samples / "codex"], workers=1)
        assert totals(parallel) == totals(serial)
        assert parallel.counts() == serial.counts()


def test_a_ledger_in_use_gives_a_clear_error(tmp_path):
    path = tmp_path / "l.duckdb"
    Ledger(path).close()
    with pytest.raises(LedgerError, match="no ledger at"):
        Ledger(tmp_path / "missing.duckdb", read_only=True)
    holder = duckdb.connect(str(path))
    try:
        # DuckDB allows one writer process; in-process a second connection to the same file with
        # a different configuration is refused, which is what a locked file looks like here
        with pytest.raises(LedgerError, match=str(path)):
            Ledger(path, read_only=True)
    finally:
        holder.close()


def test_a_cached_audit_is_reused_until_the_ledger_changes(ledger, samples, tmp_path):
    from inferaudit.audit import cached_audit

    ingest(ledger, [samples / "codex"])
    generation = ledger.generation
    first = cached_audit(ledger)
    assert ledger.con.execute("SELECT count(*) FROM report_cache").fetchone()[0] == 1
    ingest(ledger, [samples / "codex"])  # nothing changed: same generation, same cached report
    assert ledger.generation == generation
    assert cached_audit(ledger) == first
    ingest(ledger, [samples / "claude-code"])
    assert ledger.generation == generation + 1
    assert cached_audit(ledger)["totals"]["calls"] == 695 != first["totals"]["calls"]
