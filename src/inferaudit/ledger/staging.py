"""Records to newline-delimited JSON staging files, and staging files into the ledger.

Workers write; the main process loads every table with one
``INSERT ... SELECT FROM read_json(...)`` that merges duplicates: the same
call seen twice keeps the largest count per bucket (Claude Code writes
partial counts first), a run keeps its earliest start and latest end.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any

import duckdb
import orjson

from ..usage import BUCKETS, Call, Event, Problem, Published, Run

TABLES = ("calls", "runs", "events", "published", "problems")

_CALL_COLUMNS = {
    "call_id": "VARCHAR", "source": "VARCHAR", "provider": "VARCHAR", "model": "VARCHAR", "harness": "VARCHAR",
    "run_id": "VARCHAR", "session_id": "VARCHAR", "started_at": "TIMESTAMPTZ", "first_token_at": "TIMESTAMPTZ",
    "ended_at": "TIMESTAMPTZ", **{b: "BIGINT" for b in BUCKETS}, "cost_reported": "DOUBLE", "status": "VARCHAR",
    "attempt": "INTEGER", "tool_calls": "INTEGER", "user_id": "VARCHAR", "feature": "VARCHAR", "tags": "JSON",
    "spec_draft_tokens": "BIGINT", "spec_accepted_tokens": "BIGINT", "spec_steps": "BIGINT",
    "source_file": "VARCHAR", "source_line": "INTEGER",
}
_RUN_COLUMNS = {
    "run_id": "VARCHAR", "source": "VARCHAR", "harness": "VARCHAR", "model": "VARCHAR", "provider": "VARCHAR",
    "cache_policy": "VARCHAR", "benchmark": "VARCHAR", "task_id": "VARCHAR", "outcome": "VARCHAR",
    "verified_by": "VARCHAR", "started_at": "TIMESTAMPTZ", "ended_at": "TIMESTAMPTZ", "wall_time_s": "DOUBLE",
    "cost_reported": "DOUBLE", "calls_reported": "INTEGER", "tokens_reported": "JSON", "source_file": "VARCHAR",
}
_EVENT_COLUMNS = {
    "event_id": "VARCHAR", "kind": "VARCHAR", "source": "VARCHAR", "occurred_at": "TIMESTAMPTZ", "run_id": "VARCHAR",
    "session_id": "VARCHAR", "data": "JSON", "source_file": "VARCHAR", "source_line": "INTEGER",
}
_PUBLISHED_COLUMNS = {
    "grp": "VARCHAR", "benchmark": "VARCHAR", "harness": "VARCHAR", "model": "VARCHAR", "success_rate": "DOUBLE",
    "cost_per_run": "DOUBLE", "wall_time_s": "DOUBLE", "source_file": "VARCHAR",
}
_PROBLEM_COLUMNS = {"file": "VARCHAR", "line": "INTEGER", "reason": "VARCHAR"}

COLUMNS = {"calls": _CALL_COLUMNS, "runs": _RUN_COLUMNS, "events": _EVENT_COLUMNS,
           "published": _PUBLISHED_COLUMNS, "problems": _PROBLEM_COLUMNS}


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def call_row(c: Call) -> dict[str, Any]:
    t = c.tokens
    return {
        "call_id": c.call_id, "source": c.source, "provider": c.provider, "model": c.model, "harness": c.harness,
        "run_id": c.run_id, "session_id": c.session_id, "started_at": _iso(c.started_at),
        "first_token_at": _iso(c.first_token_at), "ended_at": _iso(c.ended_at),
        "input": t.input, "cache_read": t.cache_read, "cache_write_5m": t.cache_write_5m,
        "cache_write_1h": t.cache_write_1h, "output": t.output, "reasoning": t.reasoning,
        "cost_reported": c.cost_reported, "status": c.status, "attempt": c.attempt, "tool_calls": c.tool_calls,
        "user_id": c.user, "feature": c.feature, "tags": c.tags or None,
        "spec_draft_tokens": c.spec_draft_tokens, "spec_accepted_tokens": c.spec_accepted_tokens,
        "spec_steps": c.spec_steps, "source_file": c.source_file, "source_line": c.source_line,
    }


def run_row(r: Run) -> dict[str, Any]:
    return {
        "run_id": r.run_id, "source": r.source, "harness": r.harness, "model": r.model, "provider": r.provider,
        "cache_policy": r.cache_policy, "benchmark": r.benchmark, "task_id": r.task_id, "outcome": r.outcome,
        "verified_by": r.verified_by, "started_at": _iso(r.started_at), "ended_at": _iso(r.ended_at),
        "wall_time_s": r.wall_time_s, "cost_reported": r.cost_reported, "calls_reported": r.calls_reported,
        "tokens_reported": r.tokens_reported.as_dict() if r.tokens_reported else None, "source_file": r.source_file,
    }


def event_row(e: Event) -> dict[str, Any]:
    return {
        "event_id": e.event_id, "kind": e.kind, "source": e.source, "occurred_at": _iso(e.at), "run_id": e.run_id,
        "session_id": e.session_id, "data": e.data or None, "source_file": e.source_file, "source_line": e.source_line,
    }


def published_row(p: Published) -> dict[str, Any]:
    return {
        "grp": p.group, "benchmark": p.benchmark or "", "harness": p.harness, "model": p.model,
        "success_rate": p.success_rate, "cost_per_run": p.cost_per_run, "wall_time_s": p.wall_time_s,
        "source_file": p.source_file,
    }


def problem_row(p: Problem) -> dict[str, Any]:
    return {"file": p.file, "line": p.line, "reason": p.reason}


_ROUTES = {Call: ("calls", call_row), Run: ("runs", run_row), Event: ("events", event_row),
           Published: ("published", published_row), Problem: ("problems", problem_row)}


def stage_path(directory: Path, table: str, tag: str) -> Path:
    """The staging file of ``table`` written by ``tag``: ``<table>-<tag>.ndjson``, the name ``load_staged`` reads."""
    return directory / f"{table}-{tag}.ndjson"


class StageWriter:
    """Appends records to one staging file per table (``stage_path``)."""

    def __init__(self, directory: Path, tag: str):
        self.directory = directory
        self.tag = tag
        self.counts = dict.fromkeys(TABLES, 0)
        self._files: dict[str, IO[bytes]] = {}

    def add(self, record: Any) -> None:
        table, to_row = _ROUTES[type(record)]
        self._write(table, to_row(record))

    def add_problem(self, file: str, line: int | None, reason: str) -> None:
        self._write("problems", {"file": file, "line": line, "reason": reason})

    def _write(self, table: str, row: dict[str, Any]) -> None:
        fh = self._files.get(table)
        if fh is None:
            fh = self._files[table] = open(stage_path(self.directory, table, self.tag), "wb")
        fh.write(orjson.dumps(row))
        fh.write(b"\n")
        self.counts[table] += 1

    def close(self) -> None:
        for fh in self._files.values():
            fh.close()


def _reader(directory: Path, table: str) -> str | None:
    if not any(directory.glob(f"{table}-*.ndjson")):
        return None
    columns = ", ".join(f"'{name}': '{kind}'" for name, kind in COLUMNS[table].items())
    pattern = str(directory / f"{table}-*.ndjson").replace("'", "''")
    return f"read_json('{pattern}', format='newline_delimited', columns={{{columns}}})"


_MERGE_SQL = {
    "calls": """
        INSERT INTO calls BY NAME
        SELECT call_id, any_value(source) AS source, any_value(provider) AS provider, any_value(model) AS model,
               any_value(harness) AS harness, any_value(run_id) AS run_id, any_value(session_id) AS session_id,
               min(started_at) AS started_at, min(first_token_at) AS first_token_at, max(ended_at) AS ended_at,
               max(input) AS input, max(cache_read) AS cache_read, max(cache_write_5m) AS cache_write_5m,
               max(cache_write_1h) AS cache_write_1h, max(output) AS output, max(reasoning) AS reasoning,
               max(cost_reported) AS cost_reported, any_value(status) AS status, max(attempt) AS attempt,
               max(tool_calls) AS tool_calls, any_value(user_id) AS user_id, any_value(feature) AS feature,
               any_value(tags) AS tags, max(spec_draft_tokens) AS spec_draft_tokens,
               max(spec_accepted_tokens) AS spec_accepted_tokens, max(spec_steps) AS spec_steps,
               min_by(source_file, source_line) AS source_file, min(source_line) AS source_line
        FROM {reader} GROUP BY call_id
        ON CONFLICT (call_id) DO UPDATE SET
            input = greatest(input, EXCLUDED.input), cache_read = greatest(cache_read, EXCLUDED.cache_read),
            cache_write_5m = greatest(cache_write_5m, EXCLUDED.cache_write_5m),
            cache_write_1h = greatest(cache_write_1h, EXCLUDED.cache_write_1h),
            output = greatest(output, EXCLUDED.output), reasoning = greatest(reasoning, EXCLUDED.reasoning),
            started_at = least(started_at, EXCLUDED.started_at), ended_at = greatest(ended_at, EXCLUDED.ended_at),
            cost_reported = greatest(cost_reported, EXCLUDED.cost_reported),
            tool_calls = greatest(tool_calls, EXCLUDED.tool_calls)
    """,
    "runs": """
        INSERT INTO runs BY NAME
        SELECT run_id, any_value(source) AS source, any_value(harness) AS harness, any_value(model) AS model,
               any_value(provider) AS provider, any_value(cache_policy) AS cache_policy,
               any_value(benchmark) AS benchmark, any_value(task_id) AS task_id, any_value(outcome) AS outcome,
               any_value(verified_by) AS verified_by, min(started_at) AS started_at, max(ended_at) AS ended_at,
               max(wall_time_s) AS wall_time_s, max(cost_reported) AS cost_reported,
               max(calls_reported) AS calls_reported, any_value(tokens_reported) AS tokens_reported,
               min(source_file) AS source_file
        FROM {reader} GROUP BY run_id
        ON CONFLICT (run_id) DO UPDATE SET
            started_at = least(started_at, EXCLUDED.started_at), ended_at = greatest(ended_at, EXCLUDED.ended_at),
            outcome = EXCLUDED.outcome, cost_reported = coalesce(EXCLUDED.cost_reported, cost_reported),
            calls_reported = coalesce(EXCLUDED.calls_reported, calls_reported),
            wall_time_s = coalesce(EXCLUDED.wall_time_s, wall_time_s),
            model = coalesce(EXCLUDED.model, model), cache_policy = coalesce(EXCLUDED.cache_policy, cache_policy)
    """,
    "events": "INSERT INTO events BY NAME SELECT DISTINCT ON (event_id) * FROM {reader} ON CONFLICT DO NOTHING",
    "published": """
        INSERT INTO published BY NAME SELECT DISTINCT ON (grp, benchmark) * FROM {reader}
        ON CONFLICT (grp, benchmark) DO UPDATE SET success_rate = EXCLUDED.success_rate,
            cost_per_run = EXCLUDED.cost_per_run, wall_time_s = EXCLUDED.wall_time_s
    """,
    "problems": "INSERT INTO problems BY NAME SELECT * FROM {reader}",
}


def load_staged(con: duckdb.DuckDBPyConnection, directory: Path) -> dict[str, int]:
    """Merge every staging file in ``directory`` into the ledger; return rows written per table."""
    counts = {}
    for table in TABLES:
        reader = _reader(directory, table)
        if reader is None:
            counts[table] = 0
            continue
        counts[table] = con.execute(_MERGE_SQL[table].format(reader=reader)).fetchone()[0]
    return counts



def load_new_calls(con: duckdb.DuckDBPyConnection, directory: Path, *, or_ignore: bool = True) -> int:
    """Insert staged calls whose ids are new; a call already in the ledger is left as it is.

    For writers whose rows are complete and uniquely keyed (the gateway, a spill replay): no
    merge needed, so no GROUP BY and no update, which keeps each batch cheap. With
    ``or_ignore=False`` a batch holding a known id fails with ``duckdb.ConstraintException``
    instead (a plain INSERT costs about half of ``INSERT OR IGNORE`` per row, measured here):
    the caller rolls back and loads the batch again with ``or_ignore=True``.
    """
    reader = _reader(directory, "calls")
    if reader is None:
        return 0
    verb = "INSERT OR IGNORE" if or_ignore else "INSERT"
    return con.execute(f"{verb} INTO calls BY NAME SELECT * FROM {reader}").fetchone()[0]
