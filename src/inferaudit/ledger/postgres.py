"""The ledger on PostgreSQL: one database shared by several gateway replicas.

DuckDB stays the default (nothing to start, fast analyses); PostgreSQL is
for the case DuckDB cannot serve: several processes writing at once. The
calls table has the same columns as DuckDB's (``staging.COLUMNS``), keyed
by ``call_id``, so a replica's retry of a batch or a spill replay inserts
nothing twice (``ON CONFLICT DO NOTHING``).

Schema changes are numbered migrations recorded in ``schema_migrations``,
as in DuckDB; concurrent replicas starting together serialise on an
advisory lock. The spend queries (``SPEND_SQL``) always take a time
window and are served by indexes on ``started_at`` (alone and after user,
feature and model), so they stay off sequential scans as the table grows.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

from .staging import COLUMNS
from .store import LedgerError

PG_TYPES = {"VARCHAR": "TEXT", "DOUBLE": "DOUBLE PRECISION", "BIGINT": "BIGINT", "INTEGER": "INTEGER",
            "TIMESTAMPTZ": "TIMESTAMPTZ", "JSON": "JSONB"}
CALL_COLUMNS = list(COLUMNS["calls"])
_LOCK_ID = 0x1A_0D17  # pg_advisory_xact_lock key for migrations


def is_postgres(location: Any) -> bool:
    return isinstance(location, str) and location.startswith(("postgresql://", "postgres://"))


def _m001_calls(cur) -> None:
    columns = ",\n".join(f'"{name}" {PG_TYPES[kind]}' for name, kind in COLUMNS["calls"].items())
    cur.execute(f"CREATE TABLE calls ({columns}, PRIMARY KEY (call_id))")
    cur.execute("CREATE INDEX calls_started ON calls (started_at)")
    for column in ("user_id", "feature", "model"):
        cur.execute(f"CREATE INDEX calls_{column}_started ON calls ({column}, started_at)")
    cur.execute("CREATE INDEX calls_run ON calls (run_id)")


def _m002_runs(cur) -> None:
    columns = ",\n".join(f'"{name}" {PG_TYPES[kind]}' for name, kind in COLUMNS["runs"].items())
    cur.execute(f"CREATE TABLE runs ({columns}, PRIMARY KEY (run_id))")


MIGRATIONS: list[tuple[int, str, Callable]] = [(1, "calls", _m001_calls), (2, "runs", _m002_runs)]

# spend per (group) in [start, end): the queries reports run, each on an index
SPEND_SQL = {
    "total": "SELECT count(*), sum(input)::bigint, sum(output)::bigint FROM calls WHERE started_at >= %s AND started_at < %s",
    **{by: f"SELECT {by}, count(*), sum(input)::bigint, sum(cache_read)::bigint, sum(output)::bigint FROM calls "
           f"WHERE started_at >= %s AND started_at < %s GROUP BY {by}" for by in ("user_id", "feature", "model")},
    **{f"one_{by}": f"SELECT count(*), sum(input)::bigint, sum(output)::bigint FROM calls "
                    f"WHERE {by} = %s AND started_at >= %s AND started_at < %s" for by in ("user_id", "feature", "model")},
}


class PostgresLedger:
    """A connection to a PostgreSQL ledger; migrates it on open."""

    def __init__(self, dsn: str, *, connect_timeout: float = 5.0):
        try:
            import psycopg
        except ImportError:
            raise LedgerError("a PostgreSQL ledger needs psycopg: pip install 'inferaudit[postgres]'") from None
        self.dsn = dsn
        try:
            self.con = psycopg.connect(dsn, connect_timeout=max(1, int(connect_timeout)))
        except psycopg.Error as exc:
            raise LedgerError(f"cannot open the PostgreSQL ledger: {_first_line(exc)}") from None
        self._migrate()

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> PostgresLedger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _migrate(self) -> None:
        with self.con.transaction(), self.con.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_ID,))
            cur.execute("CREATE TABLE IF NOT EXISTS schema_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                        " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())")
            cur.execute("SELECT id FROM schema_migrations")
            done = {row[0] for row in cur.fetchall()}
            for number, name, migrate in MIGRATIONS:
                if number not in done:
                    migrate(cur)
                    cur.execute("INSERT INTO schema_migrations (id, name) VALUES (%s, %s)", (number, name))

    def insert_calls(self, rows: Iterable[dict[str, Any]]) -> int:
        """Insert call rows (``staging.call_row`` dicts); rows whose call id is already there are skipped.

        Returns how many were new. One transaction: all of the batch or none of it.
        """
        from psycopg.types.json import Jsonb

        names = ", ".join(f'"{c}"' for c in CALL_COLUMNS)
        with self.con.transaction(), self.con.cursor() as cur:
            cur.execute("CREATE TEMP TABLE IF NOT EXISTS incoming (LIKE calls) ON COMMIT DELETE ROWS")
            with cur.copy(f"COPY incoming ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row([Jsonb(row[c]) if c == "tags" and row[c] is not None else row.get(c)
                                    for c in CALL_COLUMNS])
            cur.execute(f"INSERT INTO calls ({names}) SELECT {names} FROM incoming ON CONFLICT (call_id) DO NOTHING")
            return cur.rowcount

    def count(self, table: str = "calls") -> int:
        if table not in ("calls", "runs"):
            raise ValueError(table)
        with self.con.cursor() as cur:
            cur.execute(f"SELECT count(*) FROM {table}")
            return cur.fetchone()[0]

    def spend(self, query: str, *params: Any) -> list[tuple]:
        with self.con.cursor() as cur:
            cur.execute(SPEND_SQL[query], params)
            return cur.fetchall()

    def copy_calls_into(self, duck, since: Any = None, until: Any = None) -> int:
        """Copy the calls in [since, until) into a DuckDB connection's ``calls`` table, for the analyses.

        The analyses (pricing per call, spend views, the audit) run in DuckDB whatever the store: one
        cost engine. The copy streams as CSV through a temporary file, so a month of a busy gateway
        never sits in Python objects.
        """
        import os
        import tempfile

        names = ", ".join(f'"{c}"' for c in CALL_COLUMNS)
        where, params = [], []
        if since is not None:  # started_at: every gateway row has one, and its index serves the window
            where.append("started_at >= %s")
            params.append(since)
        if until is not None:
            where.append("started_at < %s")
            params.append(until)
        select = f"SELECT {names} FROM calls" + (" WHERE " + " AND ".join(where) if where else "")
        self.last_copy_sql = (select, params)
        fd, path = tempfile.mkstemp(suffix=".csv", prefix="inferaudit-pg-")
        try:
            with os.fdopen(fd, "wb") as out, self.con.cursor() as cur:
                import psycopg

                # COPY takes no bind parameters: the window is quoted client-side
                query = psycopg.ClientCursor(self.con).mogrify(select, params) if params else select
                with cur.copy(f"COPY ({query}) TO STDOUT WITH (FORMAT csv, HEADER true)") as copy:
                    for block in copy:
                        out.write(block)
            types = ", ".join(f"'{c}': '{t}'" for c, t in COLUMNS["calls"].items())
            return duck.execute(f"INSERT OR IGNORE INTO calls BY NAME SELECT * FROM read_csv(?, header = true, "
                                f"columns = {{{types}}})", [path]).fetchone()[0]
        finally:
            os.unlink(path)

    def explain(self, query: str, *params: Any) -> str:
        """The planner's plan for one of ``SPEND_SQL`` (or a SELECT given whole), as text."""
        with self.con.cursor() as cur:
            cur.execute("EXPLAIN " + SPEND_SQL.get(query, query), params)
            return "\n".join(row[0] for row in cur.fetchall())


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
