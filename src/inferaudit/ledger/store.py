"""The ledger: one DuckDB file holding Calls, Runs, Events and what was read.

Default location: ``$INFERAUDIT_LEDGER`` if set, else
``$XDG_DATA_HOME/inferaudit/ledger.duckdb`` (``~/.local/share/...``).
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from .migrations import migrate

ENV_VAR = "INFERAUDIT_LEDGER"


class LedgerError(RuntimeError):
    """The ledger cannot be opened or written; the message says which file and why."""


def default_path() -> Path:
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR]).expanduser()
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "inferaudit" / "ledger.duckdb"


class Ledger:
    """An open ledger. Use as a context manager, or call :meth:`close`."""

    def __init__(self, path: str | Path | None = None, *, read_only: bool = False):
        self.path = Path(path).expanduser() if path is not None else default_path()
        memory = str(self.path) == ":memory:"
        if not memory:
            if read_only and not self.path.exists():
                raise LedgerError(f"no ledger at {self.path}: run `inferaudit import` or `inferaudit audit PATH` first")
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.con = duckdb.connect(str(self.path), read_only=read_only)
        except duckdb.IOException as exc:
            raise LedgerError(f"cannot open ledger {self.path}: {_first_line(exc)}") from None
        except duckdb.Error as exc:
            raise LedgerError(f"cannot open ledger {self.path}: {_first_line(exc)}") from None
        if not read_only:
            migrate(self.con)

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def generation(self) -> int:
        """Bumped by every import that changed something: what cached analyses are keyed on."""
        return self.con.execute("SELECT value FROM state WHERE key = 'generation'").fetchone()[0]

    def bump_generation(self) -> None:
        self.con.execute("UPDATE state SET value = value + 1 WHERE key = 'generation'")

    def cached_report(self, key: str) -> str | None:
        row = self.con.execute(
            "SELECT report FROM report_cache WHERE key = ? AND generation = ?", [key, self.generation]
        ).fetchone()
        return row[0] if row else None

    def store_report(self, key: str, report_json: str) -> None:
        self.con.execute("DELETE FROM report_cache WHERE generation < ? OR key = ?", [self.generation, key])
        self.con.execute("INSERT INTO report_cache (key, generation, report) VALUES (?, ?, ?)",
                         [key, self.generation, report_json])

    def counts(self) -> dict[str, int]:
        return {
            table: self.con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("calls", "runs", "events", "published", "files", "problems")
        }


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
