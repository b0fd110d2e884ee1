"""A throwaway PostgreSQL cluster on a loopback port, from Debian's ``postgresql`` package.

For tests and benchmarks: ``with PostgresCluster() as pg: pg.dsn``. The
cluster lives in a temporary folder, trusts loopback connections, runs
without fsync (it is thrown away) and is removed on exit. As root (CI
containers) the server runs as the ``postgres`` user, since PostgreSQL
refuses to run as root. ``stop()`` / ``start()`` simulate an outage.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from .ports import free_port


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries here; the message says what to install."""


def _bin(name: str) -> str:
    """Debian's versioned server binaries first (not always on PATH), else whatever PATH has."""
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(p.split("/")[4]), reverse=True)
    found = candidates[0] if candidates else shutil.which(name)
    if not found:
        raise PostgresUnavailable(f"{name} not found: apt-get install -y postgresql")
    return found


class PostgresCluster:
    def __init__(self) -> None:
        self.initdb, self.pg_ctl = _bin("initdb"), _bin("pg_ctl")
        self.root = Path(tempfile.mkdtemp(prefix="inferaudit-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.dsn = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def _run(self, *args: str) -> None:
        result = subprocess.run([*self._as, *args], capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise RuntimeError(f"{Path(args[0]).name} failed: {result.stderr.strip() or result.stdout.strip()}")

    def __enter__(self) -> PostgresCluster:
        if self._as:
            shutil.chown(self.root, "postgres")
        self._run(self.initdb, "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        self.start()
        return self

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
        self._run(self.pg_ctl, "-D", str(self.data), "-o", options, "-l", str(self.root / "log"), "-w", "start")

    def stop(self) -> None:
        self._run(self.pg_ctl, "-D", str(self.data), "-m", "fast", "-w", "stop")

    def __exit__(self, *exc: object) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
