"""One DuckDB connection over a ledger's calls for the analyses, wherever the ledger lives."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

from .postgres import PostgresLedger, is_postgres
from .store import Ledger


@contextmanager
def analysis_connection(location: Any, since: Any = None, until: Any = None) -> Iterator[Any]:
    """The DuckDB ledger file itself (read-only), or a PostgreSQL ledger's calls in [since, until)
    copied into memory: the analyses (pricing per call, spend, budgets, the backlog) run in DuckDB
    either way. Callers still filter by their window: a DuckDB file is not cut to it."""
    if is_postgres(location):
        with PostgresLedger(location) as pg, Ledger(":memory:") as ledger:
            pg.copy_calls_into(ledger.con, since, until)
            yield ledger.con
    else:
        with Ledger(location, read_only=True) as ledger:
            yield ledger.con
