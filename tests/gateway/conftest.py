"""A real gateway (uvicorn on a loopback port) in front of the loopback upstream emulator."""

from __future__ import annotations

from pathlib import Path

import pytest

from inferaudit.gateway import GatewayConfig
from inferaudit.ledger import Ledger
from inferaudit.testing.gateway import GatewayThread
from inferaudit.testing.threaded import EmulatorThread

UPSTREAM_KEY = "sk-upstream-SECRET-0123456789abcdef"


@pytest.fixture
def upstream_key() -> str:
    return UPSTREAM_KEY


@pytest.fixture(scope="module")
def emulator():
    with EmulatorThread(require_auth=False) as emu:
        yield emu


def make_config(emulator, ledger: Path, **extra) -> GatewayConfig:
    doc = {
        "ledger": str(ledger),
        "providers": {
            "openai": {"base_url": emulator.url, "protocol": "openai-chat", "api_key": UPSTREAM_KEY,
                       "forward_headers": ["x-emulator-fault", "x-emulator-scenario", "x-emulator-usage"]},
            "openai-r": {"base_url": emulator.url, "protocol": "openai-responses", "api_key": UPSTREAM_KEY,
                         "forward_headers": ["x-emulator-fault", "x-emulator-usage"]},
            "anthropic": {"base_url": emulator.url, "protocol": "anthropic-messages", "api_key": UPSTREAM_KEY,
                          "forward_headers": ["x-emulator-fault", "x-emulator-usage"]},
            "google": {"base_url": emulator.url, "protocol": "gemini", "api_key": UPSTREAM_KEY,
                       "forward_headers": ["x-emulator-usage"]},
        },
        "default_providers": {"openai-chat": "openai", "openai-responses": "openai-r",
                              "anthropic-messages": "anthropic", "gemini": "google"},
        "retry": {"attempts": 3, "budget_s": 5},
        "ledger_flush_s": 0.05,
        **extra,
    }
    return GatewayConfig.from_dict(doc)


@pytest.fixture
def config_for(emulator):
    """``config_for(ledger_path, **extra)``: a gateway config routing every protocol to the emulator."""
    return lambda ledger, **extra: make_config(emulator, ledger, **extra)


@pytest.fixture
def gateway(emulator, tmp_path):
    """A running gateway; ``rows()`` stops it (flushing the ledger) and returns the ledger's calls."""
    ledger = tmp_path / "gateway.duckdb"

    class Running(GatewayThread):
        def rows(self):
            self.__exit__(None, None, None)
            if not ledger.exists():
                return []  # nothing was ever written, so no ledger was created
            with Ledger(ledger, read_only=True) as l:
                cur = l.con.execute("SELECT * FROM calls ORDER BY started_at, attempt")
                names = [d[0] for d in cur.description]
                return [dict(zip(names, row)) for row in cur.fetchall()]

    running = Running(make_config(emulator, ledger))
    with running:
        yield running
