"""Ledger writes off the request path: a bounded queue, batched, spilled, replayed, flushed on close.

The request path serialises each Call to one newline-delimited JSON row and
appends it to a deque (no I/O). A writer thread takes batches, stages them
as a file and merges each into the ledger in one transaction (the same
path imports use); ``inferaudit serve`` has a loader process
(``ledger/loader.py``) do the merge, so that no database work holds the
server's GIL. If the database cannot be written (a locked DuckDB file, a
stopped server), the staged batch is moved to the spill folder and
replayed, oldest first, once the database answers again; rows are keyed
by call id, so a replay can never count a call twice. When the queue is
full, the request path writes its row straight to the spill folder rather
than drop it.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
import time
import uuid
from collections import deque
from pathlib import Path

import orjson

from ..ledger import LedgerError, default_path
from ..ledger.loader import LoaderProcess, LocalLoader
from ..ledger.postgres import is_postgres
from ..ledger.staging import call_row, stage_path
from ..usage import Call

log = logging.getLogger("inferaudit.gateway.writer")


class LedgerWriter:
    def __init__(self, ledger_path: str | Path | None, *, batch_rows: int = 2000, flush_s: float = 0.5,
                 max_rows: int = 100_000, spill_dir: str | Path | None = None, loader_nice: int | None = None):
        self.ledger_path = ledger_path
        self.batch_rows = batch_rows
        self.flush_s = flush_s
        self.max_rows = max_rows
        local = ledger_path and str(ledger_path) != ":memory:" and not is_postgres(ledger_path)
        base = Path(ledger_path).expanduser().parent if local else Path(tempfile.gettempdir())
        self.spill_dir = Path(spill_dir) if spill_dir else base / "inferaudit-spill"
        self._queue: deque[bytes] = deque()  # one NDJSON ledger row per finished call
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="inferaudit-ledger-writer", daemon=True)
        # with ``loader_nice`` set, the database writes run in a loader process at that nice value (see
        # ledger/loader.py: in this one they hold the GIL and stall a server's event loop); without it, here:
        # a process that embeds the gateway may hold the same DuckDB file open itself, and only this
        # process's connections can share it
        in_process = loader_nice is None or str(ledger_path) == ":memory:"
        self._loader = LocalLoader(ledger_path) if in_process else LoaderProcess(ledger_path or default_path(), nice=loader_nice)
        self.written = 0
        self.spilled = 0

    # -- request path ------------------------------------------------------------

    def submit(self, call: Call) -> None:
        """Queue one row; never blocks on I/O unless the queue is full (then the row goes to disk).

        The row is serialised here, a few microseconds per call, rather than a whole batch at once
        in the writer thread, which would hold the GIL for milliseconds and stall the event loop.
        """
        line = orjson.dumps(call_row(call)) + b"\n"
        if len(self._queue) >= self.max_rows:
            self._spill_rows([line])
            return
        self._queue.append(line)
        if len(self._queue) >= self.batch_rows:
            self._wake.set()

    # -- lifecycle ---------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def close(self, timeout: float = 30.0) -> None:
        """Write everything queued (spilling what the database refuses), then close the ledger."""
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        if self._queue:  # the thread could not finish in time: nothing may be lost
            self._spill_rows(list(self._queue))
            self._queue.clear()
        self._loader.close()

    @property
    def pending(self) -> int:
        return len(self._queue)

    # -- writer thread -----------------------------------------------------------

    def _run(self) -> None:
        # same OS priority as the request path: niced to 10, the writer fell more than a second behind
        # when other jobs shared the 2 cores (past the crash-loss bound of docs/reliability.md), and the
        # nice bought no measurable speed in bench/gateway_overhead.py
        while True:
            # wait for a full batch or the flush interval: writing every few rows would cost a
            # DuckDB merge each, on the same cores as the request path
            if len(self._queue) < self.batch_rows:
                self._wake.wait(self.flush_s)
            self._wake.clear()
            stopping = self._stop.is_set()
            self._replay_spill()
            for _ in range(max(1, len(self._queue) // self.batch_rows)):
                if not self._queue:
                    break
                self._write(self._take_batch())
            if stopping:
                while self._queue:
                    self._write(self._take_batch())
                return

    def _take_batch(self) -> list[bytes]:
        return [self._queue.popleft() for _ in range(min(self.batch_rows, len(self._queue)))]

    def _write(self, batch: list[bytes]) -> None:
        stage = Path(tempfile.mkdtemp(prefix="inferaudit-batch-"))
        try:
            staged = stage_path(stage, "calls", "gw")
            staged.write_bytes(b"".join(batch))
            if not self._load(stage):
                self._keep(staged, len(batch))
            else:
                self.written += len(batch)
        finally:
            shutil.rmtree(stage, ignore_errors=True)

    def _load(self, stage: Path) -> bool:
        try:
            self._loader.load(stage)
            return True
        except LedgerError as exc:  # the database is unavailable or went away mid-write: keep the rows
            log.warning("ledger write failed, spilling rows: %s", exc)
            return False

    def _spill_path(self) -> Path:
        self.spill_dir.mkdir(parents=True, exist_ok=True)
        return self.spill_dir / f"calls-{time.time_ns()}-{uuid.uuid4().hex[:8]}.ndjson"

    def _keep(self, staged: Path, rows: int) -> None:
        shutil.move(str(staged), self._spill_path())
        self.spilled += rows

    def _spill_rows(self, lines: list[bytes]) -> None:
        target = self._spill_path()
        tmp = target.with_suffix(".part")
        with open(tmp, "wb") as fh:
            fh.write(b"".join(lines))
            fh.flush()
            os.fsync(fh.fileno())
        tmp.rename(target)  # replay only ever sees whole files
        self.spilled += len(lines)

    def _replay_spill(self) -> None:
        if not self.spill_dir.is_dir():
            return
        for spilled in sorted(self.spill_dir.glob("calls-*.ndjson")):
            stage = Path(tempfile.mkdtemp(prefix="inferaudit-replay-"))
            try:
                shutil.copy(spilled, stage / "calls-replay.ndjson")
                if not self._load(stage):
                    return  # still down: try again on the next round
                spilled.unlink(missing_ok=True)  # another replica sharing the folder may have replayed it too
            finally:
                shutil.rmtree(stage, ignore_errors=True)
