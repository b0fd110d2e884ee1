"""Import sources into the ledger: idempotent and incremental.

Each unit (a file, or a result folder) is fingerprinted by its members'
sizes and modification times. An unchanged unit is skipped; an
append-only log that grew is read from the offset where the last read
stopped; anything else is read again from the start. Records are keyed
(call id, run id, event id), so reading something twice adds nothing.

Parsing runs in worker processes that write newline-delimited JSON staging
files; the main process loads them into DuckDB in one transaction per
import, which is much faster than row-by-row inserts.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable

import orjson

from .. import sources
from ..sources.base import RETRY_MARK, Cursor
from .staging import TABLES, StageWriter, load_staged
from .store import Ledger

PARALLEL_MIN_BYTES = 16 << 20  # below this, worker start-up costs more than it saves


@dataclass
class IngestSummary:
    units: int = 0
    read: int = 0
    resumed: int = 0
    skipped: int = 0
    unknown: int = 0
    bytes_read: int = 0
    records: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TABLES, 0))


@dataclass
class _Job:
    path: str
    source: str
    members: list[str]
    fingerprint: str
    head_hash: str
    size: int
    cursor: Cursor
    full: bool  # read from the start (problems of earlier reads are replaced)


def ingest(
    ledger: Ledger,
    paths: Iterable[str | Path],
    *,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> IngestSummary:
    """Read every recognised file under ``paths`` into ``ledger``."""
    summary = IngestSummary()
    jobs: list[_Job] = []
    unknown: list[str] = []
    known = _known_files(ledger)
    for unit in sources.discover((Path(p) for p in paths), {path: row[0] for path, row in known.items()}):
        if isinstance(unit, Path):
            unknown.append(str(unit))
            continue
        summary.units += 1
        job = _plan(unit, known.get(str(unit.path)))
        if job is None:
            summary.skipped += 1
            continue
        jobs.append(job)
        summary.read += job.full
        summary.resumed += not job.full
    summary.unknown = len(unknown)
    total = sum(job.size - job.cursor.offset for job in jobs)
    stage = Path(tempfile.mkdtemp(prefix="inferaudit-stage-"))
    try:
        done = _run_jobs(jobs, stage, workers, total, progress)
        summary.bytes_read = total
        _commit(ledger, jobs, done, unknown, stage, summary)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return summary


def _known_files(ledger: Ledger) -> dict[str, tuple]:
    rows = ledger.con.execute('SELECT path, source, fingerprint, head_hash, size, "offset", line, state FROM files').fetchall()
    return {row[0]: row[1:] for row in rows}


def _fingerprint(members: list[Path]) -> tuple[str, int]:
    parts, size = [], 0
    for member in members:
        st = member.stat()
        parts.append(f"{member}:{st.st_size}:{st.st_mtime_ns}")
        size += st.st_size
    return hashlib.sha1("\n".join(parts).encode()).hexdigest(), size


def _head_hash(path: Path, length: int) -> str:
    with open(path, "rb") as fh:
        return hashlib.sha1(fh.read(min(length, 4096))).hexdigest()


def _plan(unit: sources.Unit, known: tuple | None) -> _Job | None:
    fingerprint, size = _fingerprint(unit.members)
    job = _Job(str(unit.path), unit.source.name, [str(m) for m in unit.members], fingerprint, "", size, Cursor(), True)
    if known is None:
        job.head_hash = _head_hash(unit.path, size)
        return job
    source, old_fp, old_head, old_size, offset, line, state = known
    if old_fp == fingerprint and source == unit.source.name:
        return None
    job.head_hash = _head_hash(unit.path, size)
    grew = unit.source.append_only and source == unit.source.name and size >= old_size and offset <= size
    if grew and old_head == _head_hash(unit.path, old_size):
        job.cursor = Cursor(offset=offset, line=line, state=orjson.loads(state) if state else {})
        job.full = False
    return job


def _parse(batch: list[_Job], stage_dir: str, tag: str) -> list[tuple[str, Cursor]]:
    """Worker: parse a batch of units into one set of staging files; return each unit's new cursor."""
    writer = StageWriter(Path(stage_dir), tag)
    out = []
    try:
        for job in batch:
            try:
                for record in sources.get(job.source).read(Path(job.path), job.cursor):
                    writer.add(record)
            except Exception as exc:  # a parser bug must not lose the rest of the import
                writer.add_problem(job.path, None, f"importer {job.source} failed: {type(exc).__name__}: {exc}")
            out.append((job.path, job.cursor))
    finally:
        writer.close()
    return out


def _batches(jobs: list[_Job], count: int) -> list[list[_Job]]:
    """Split jobs into about ``count`` batches of similar byte size, largest first, keeping few staging files."""
    batches: list[list[_Job]] = [[] for _ in range(max(1, min(count, len(jobs))))]
    loads = [0] * len(batches)
    for job in sorted(jobs, key=lambda j: j.cursor.offset - j.size):
        i = loads.index(min(loads))
        batches[i].append(job)
        loads[i] += job.size - job.cursor.offset
    return [b for b in batches if b]


def _run_jobs(jobs: list[_Job], stage: Path, workers: int | None, total: int, progress) -> dict[str, Cursor]:
    done: dict[str, Cursor] = {}
    sizes = {job.path: job.size - job.cursor.offset for job in jobs}
    seen = 0
    workers = workers if workers is not None else (os.cpu_count() or 1)
    parallel = workers > 1 and len(jobs) > 1 and total >= PARALLEL_MIN_BYTES
    batches = _batches(jobs, workers * 8 if parallel else len(jobs) or 1)

    def finished(results: list[tuple[str, Cursor]]) -> None:
        nonlocal seen
        for path, cursor in results:
            done[path] = cursor
            seen += sizes[path]
        if progress:
            progress(seen, total)

    if parallel:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(_parse, batch, str(stage), f"b{i}") for i, batch in enumerate(batches)]
            for future in as_completed(futures):
                finished(future.result())
    else:
        for i, batch in enumerate(batches):
            finished(_parse(batch, str(stage), f"b{i}"))
    return done


def _commit(ledger: Ledger, jobs: list[_Job], done: dict[str, Cursor], unknown: list[str], stage: Path, summary: IngestSummary) -> None:
    con = ledger.con
    now = datetime.now(timezone.utc).isoformat()
    full = [m for job in jobs if job.full for m in job.members]
    resumed = [job.path for job in jobs if not job.full]
    with open(stage / "files.ndjson", "wb") as fh:
        for job in jobs:
            cursor = done[job.path]
            fh.write(orjson.dumps({
                "path": job.path, "source": job.source, "fingerprint": job.fingerprint, "head_hash": job.head_hash,
                "size": job.size, "offset": cursor.offset, "line": cursor.line, "state": cursor.state, "read_at": now,
            }) + b"\n")
    con.execute("BEGIN")
    try:
        # problems of a file read from the start are replaced; of a resumed one, only the retried last line
        con.execute("DELETE FROM problems WHERE list_contains(?, file)", [full + unknown])
        con.execute("DELETE FROM problems WHERE list_contains(?, file) AND starts_with(reason, ?)", [resumed, RETRY_MARK])
        if unknown:
            con.execute("INSERT INTO problems SELECT unnest(?), NULL, ?", [unknown, "unknown format: no importer recognises this file"])
        for table, n in load_staged(con, stage).items():
            summary.records[table] += n
        if jobs:
            con.execute(f"""INSERT INTO files BY NAME SELECT * FROM read_json('{_sql_path(stage / "files.ndjson")}',
                format='newline_delimited', columns={{'path': 'VARCHAR', 'source': 'VARCHAR', 'fingerprint': 'VARCHAR',
                'head_hash': 'VARCHAR', 'size': 'BIGINT', 'offset': 'BIGINT', 'line': 'BIGINT', 'state': 'JSON',
                'read_at': 'TIMESTAMPTZ'}})
                ON CONFLICT (path) DO UPDATE SET source = EXCLUDED.source, fingerprint = EXCLUDED.fingerprint,
                head_hash = EXCLUDED.head_hash, size = EXCLUDED.size, "offset" = EXCLUDED."offset",
                line = EXCLUDED.line, state = EXCLUDED.state, read_at = EXCLUDED.read_at""")
        if jobs or unknown:
            ledger.bump_generation()
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")
