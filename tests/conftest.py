"""Shared fixtures. No test may reach the network: sockets to anything but loopback fail."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "data" / "samples"

_real_connect = socket.socket.connect


def _loopback_only(self, address):  # pragma: no cover - only runs when a test misbehaves
    host = address[0] if isinstance(address, tuple) else address
    if isinstance(host, str) and host not in ("127.0.0.1", "::1", "localhost") and not host.startswith("/"):
        raise RuntimeError(f"test tried to reach the network: {address!r}")
    return _real_connect(self, address)


@pytest.fixture(autouse=True)
def _no_network(monkeypatch):
    monkeypatch.setattr(socket.socket, "connect", _loopback_only)


@pytest.fixture
def samples() -> Path:
    return SAMPLES


@pytest.fixture
def ledger(tmp_path):
    from inferaudit.ledger import Ledger

    with Ledger(tmp_path / "ledger.duckdb") as opened:
        yield opened


@pytest.fixture
def harness_cli():
    """``harness_cli("claude")``: the path of a harness CLI installed by `make tools` (or on PATH), else skip."""
    import shutil

    def find(name: str) -> str:
        local = ROOT / ".tools" / "node_modules" / ".bin" / name
        found = str(local) if local.exists() else shutil.which(name)
        if not found:
            pytest.skip(f"{name} CLI not installed (`make tools` installs the pinned npm packages); CI installs it")
        return found

    return find
