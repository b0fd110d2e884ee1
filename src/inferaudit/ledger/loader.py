"""Staged batches into the ledger from a process of their own, so that a write does not stall a server.

Inside the gateway's process a DuckDB write holds the GIL for parts of its commit (a few
milliseconds; 15-25 ms when it checkpoints, measured here), and a PostgreSQL batch is parsed from
JSON in Python first: either stalls the event loop for every request in flight. So the gateway's
writer thread stages each batch as a file and hands its folder to a loader process over a pipe,
waiting for the answer with the GIL released. The gateway starts it at nice +10
(``ledger_loader_nice``): a write then yields the core to a request that wakes up. In
bench/gateway_overhead.py at concurrency 32 that halved the gateway's added p99 (BENCHMARKS.md);
at nice 0 the separate process alone changed nothing measurable, since the write still took the
proxy's core at the moment a request needed it.

The protocol is one line each way: the folder's path in; ``ok <rows>`` or ``error <message>`` out.
The loader exits when its input closes: after a ``kill -9`` of the server alone it finishes the
batch in hand and goes; killed with the server's process group, DuckDB's write-ahead log rolls
the batch in hand back (those rows are within the crash bound of docs/reliability.md).

    python -m inferaudit.ledger.loader LEDGER [--nice N]   # LEDGER: a DuckDB file or a postgresql:// DSN
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import orjson

from .postgres import PostgresLedger, is_postgres
from .staging import load_new_calls
from .store import Ledger, LedgerError


class DuckSink:
    """Staged batches into the DuckDB ledger, one transaction each.

    The connection is reopened every ``REOPEN_S`` seconds: a DuckDB connection keeps the primary-key
    index it has touched in memory, so a long-lived one grows with the ledger (measured here: about
    0.45 KB per row written, unbounded over days); a fresh one loads only the index nodes it needs.
    """

    REOPEN_S = 60.0

    def __init__(self, path):
        self.path = path
        self.ledger = Ledger(path)
        self.opened = time.monotonic()

    def load(self, stage: Path) -> int:
        if time.monotonic() - self.opened > self.REOPEN_S:
            self.ledger.close()
            self.ledger = Ledger(self.path)
            self.opened = time.monotonic()
        try:
            return self._load(stage, or_ignore=False)  # gateway ids are new: the cheap plain INSERT
        except duckdb.ConstraintException:  # a spill replay, or a call also imported from a harness log
            return self._load(stage, or_ignore=True)

    def _load(self, stage: Path, *, or_ignore: bool) -> int:
        con = self.ledger.con
        con.execute("BEGIN")
        try:
            rows = load_new_calls(con, stage, or_ignore=or_ignore)
            self.ledger.bump_generation()
            con.execute("COMMIT")
            return rows
        except BaseException:
            with contextlib.suppress(Exception):  # the connection itself is gone: the caller reopens
                con.execute("ROLLBACK")
            raise

    def close(self) -> None:
        self.ledger.close()


class PostgresSink:
    """Staged batches into a PostgreSQL ledger shared with other replicas."""

    def __init__(self, dsn: str):
        self.ledger = PostgresLedger(dsn)

    def load(self, stage: Path) -> int:
        rows = [orjson.loads(line) for staged in sorted(stage.glob("calls-*.ndjson"))
                for line in staged.read_bytes().splitlines() if line.strip()]
        self.ledger.insert_calls(rows)
        return len(rows)

    def close(self) -> None:
        self.ledger.close()


def open_sink(ledger) -> DuckSink | PostgresSink:
    """The sink for a ledger path or DSN; raises ``LedgerError`` when it cannot be opened."""
    return PostgresSink(ledger) if is_postgres(ledger) else DuckSink(ledger)


class LocalLoader:
    """Sinks opened in this process (an in-memory ledger, and the loader process itself).

    ``load`` raises ``LedgerError`` when the batch was not written; the sink is then closed and
    reopened for the next batch.
    """

    def __init__(self, ledger):
        self.ledger = ledger
        self._sink: DuckSink | PostgresSink | None = None

    def load(self, stage: Path) -> int:
        try:
            if self._sink is None:
                self._sink = open_sink(self.ledger)
            return self._sink.load(stage)
        except Exception as exc:  # every failure is the caller's cue to keep the batch
            self.close()
            if isinstance(exc, LedgerError):
                raise
            raise LedgerError(_one_line(exc)) from exc

    def close(self) -> None:
        sink, self._sink = self._sink, None
        if sink is not None:
            with contextlib.suppress(Exception):  # a connection already gone
                sink.close()


class LoaderProcess:
    """The client side: ``load(stage)`` in a loader process, started on the first batch and again
    whenever it has died.

    Raises ``LedgerError`` when the batch was not written (the ledger cannot be opened, the write
    failed, the process died): the caller keeps the batch and tries again later.
    """

    def __init__(self, ledger, *, nice: int = 0):
        self.ledger = str(ledger)
        self.nice = nice
        self._proc: subprocess.Popen | None = None
        self._lock = threading.Lock()

    def _ensure(self) -> subprocess.Popen:
        if self._proc is None or self._proc.poll() is not None:
            command = [sys.executable, "-m", "inferaudit.ledger.loader", self.ledger, "--nice", str(self.nice)]
            self._proc = subprocess.Popen(command,
                                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)
        return self._proc

    def load(self, stage: Path) -> int:
        with self._lock:
            proc = self._ensure()
            try:
                proc.stdin.write(str(stage).encode() + b"\n")
                answer = proc.stdout.readline()
            except OSError as exc:
                answer = b""
                why = str(exc)
            else:
                why = f"exit status {proc.poll()}"
            if not answer:
                self._stop(proc)
                raise LedgerError(f"ledger loader process ended ({why})")
            status, _, rest = answer.decode("utf-8", "replace").rstrip("\n").partition(" ")
            if status != "ok":
                raise LedgerError(rest or "ledger loader gave no reason")
            return int(rest)

    def close(self, timeout: float = 30.0) -> None:
        with self._lock:
            if self._proc is not None:
                self._stop(self._proc, timeout)
                self._proc = None

    @staticmethod
    def _stop(proc: subprocess.Popen, timeout: float = 5.0) -> None:
        try:
            proc.stdin.close()  # the loader's cue to close the ledger and exit
        except OSError:
            pass
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()


def _one_line(exc: Exception) -> str:
    """An error's message on one line (the protocol's), at most 500 characters."""
    return " ".join(str(exc).split())[:500]


def serve(ledger: str, stdin=None, stdout=None) -> None:
    """Answer one line per staged folder until the input closes."""
    stdin = stdin or sys.stdin.buffer
    stdout = stdout or sys.stdout.buffer
    loader = LocalLoader(ledger)
    try:
        for line in stdin:
            try:
                answer = f"ok {loader.load(Path(line.decode().rstrip(chr(10))))}"
            except LedgerError as exc:
                answer = "error " + _one_line(exc)
            stdout.write(answer.encode() + b"\n")
            stdout.flush()
    finally:
        loader.close()


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m inferaudit.ledger.loader", description=__doc__.split("\n")[0])
    parser.add_argument("ledger", help="a DuckDB file or a postgresql:// DSN")
    parser.add_argument("--nice", type=int, default=0, help="added to this process's nice value")
    args = parser.parse_args(argv)
    if args.nice:
        os.nice(args.nice)
    # the answers keep their own copy of stdout; anything else a library prints goes to stderr, not into them
    answers = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    serve(args.ledger, stdout=answers)


if __name__ == "__main__":
    main(sys.argv[1:])
