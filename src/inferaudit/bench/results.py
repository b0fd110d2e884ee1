"""Attempt outcomes into the ledger, and which attempts are already there (for resuming).

Runs are written the way imports write them (staged, merged in one
transaction), so a Run written twice is one row. Run ids are
``<attempt key>@<nonce>``: the key names the attempt (suite, task, triple,
attempt number), the nonce this execution of it, so the calls of an attempt
that crashed before its Run was written never merge into a later retry.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import duckdb

from ..ledger import Ledger
from ..ledger.staging import StageWriter, load_staged
from ..usage import Event, Run

SOURCE = "bench"
WRITE_TRIES = 20


def attempt_key(suite: str, task_id: str, model: str, harness: str, cache_policy: str, number: int) -> str:
    return f"bench:{suite}/{task_id}/{model}/{harness}/{cache_policy}/{number}"


def key_of(run_id: str) -> str:
    return run_id.rsplit("@", 1)[0]


def finished_keys(ledger: Ledger, suite: str) -> set[str]:
    """Attempt keys of this suite that already have a Run."""
    rows = ledger.con.execute("SELECT run_id FROM runs WHERE source = ? AND benchmark = ?", [SOURCE, suite]).fetchall()
    return {key_of(run_id) for (run_id,) in rows}


def write(ledger: Ledger, run: Run, event: Event | None = None, *, bump: bool = True) -> None:
    """Merge one Run (and its Event). ``bump=False`` leaves the generation to the caller, who bumps it once
    at the end: an in-process gateway bumps it with every batch of calls, and two writers updating one row
    conflict."""
    write_records(ledger, [run] if event is None else [run, event], bump=bump)


def write_records(ledger: Ledger, records: list[Run | Event], *, bump: bool = True) -> None:
    """Merge Runs and Events in one transaction, retrying while an in-process gateway's writer commits."""
    stage = Path(tempfile.mkdtemp(prefix="inferaudit-bench-stage-"))
    try:
        writer = StageWriter(stage, "bench")
        for record in records:
            writer.add(record)
        writer.close()
        for attempt in range(WRITE_TRIES):
            con = ledger.con
            con.execute("BEGIN")
            try:
                load_staged(con, stage)
                if bump:
                    ledger.bump_generation()
                con.execute("COMMIT")
                return
            except duckdb.TransactionException:
                # an in-process gateway's writer committed first (both bump the generation): try again
                con.execute("ROLLBACK")
                if attempt == WRITE_TRIES - 1:
                    raise
                time.sleep(0.02 * (attempt + 1))
            except Exception:
                con.execute("ROLLBACK")
                raise
    finally:
        shutil.rmtree(stage, ignore_errors=True)
