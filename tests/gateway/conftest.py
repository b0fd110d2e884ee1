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


# -- translation to another upstream protocol: a gateway whose one provider speaks it ------------------------

TRANSLATED_USAGE = "input=300,cache_read=1792,output=40,reasoning=12"  # what the emulator reports (x-emulator-usage)


@pytest.fixture
def translated_gateway(tmp_path):
    """``translated_gateway(protocol, api_key, alias, model, text)`` -> (running gateway, its own emulator).

    The emulator answers the scenario ``long`` with ``text``; the gateway's one provider speaks
    ``protocol`` and ``alias`` routes to ``model`` there. ``running.rows()`` stops the gateway (its
    writer flushes) and returns the ledger's calls.
    """
    from contextlib import ExitStack

    from inferaudit.ledger import Ledger
    from inferaudit.testing import EmulatorThread
    from inferaudit.testing.gateway import GatewayThread
    from inferaudit.usage import BUCKETS, Tokens

    stack = ExitStack()
    ledger = tmp_path / "translated.duckdb"

    class Running(GatewayThread):
        def rows(self) -> list[dict]:
            self.__exit__(None, None, None)
            if not ledger.exists():
                return []
            with Ledger(ledger, read_only=True) as opened:
                cur = opened.con.execute(f"SELECT {', '.join(BUCKETS)}, status, model, tool_calls FROM calls ORDER BY started_at")
                found = cur.fetchall()
            return [{"tokens": Tokens(*row[:len(BUCKETS)]), "status": row[-3], "model": row[-2], "tool_calls": row[-1]}
                    for row in found]

    def start(protocol: str, api_key: str, alias: str, model: str, text: str):
        emulator = stack.enter_context(EmulatorThread())
        emulator.define_scenario("long", text=text, usage=Tokens(input=50, output=24))
        config = GatewayConfig.from_dict({
            "ledger": str(ledger), "ledger_flush_s": 0.05, "retry": {"attempts": 1},
            "providers": {"upstream": {"base_url": emulator.url, "protocol": protocol, "api_key": api_key,
                                       "forward_headers": ["x-emulator-usage", "x-emulator-fault", "x-emulator-scenario"]}},
            "models": {alias: [{"provider": "upstream", "model": model}]},
        })
        return stack.enter_context(Running(config)), emulator

    with stack:
        yield start


def translated_openai(url: str, **headers):
    import openai

    return openai.OpenAI(base_url=url + "/v1", api_key="client-key", max_retries=0,
                         default_headers={"x-emulator-usage": TRANSLATED_USAGE, **headers})


def translated_anthropic(url: str, **headers):
    import anthropic

    return anthropic.Anthropic(base_url=url, api_key="client-key", max_retries=0,
                               default_headers={"x-emulator-usage": TRANSLATED_USAGE, **headers})
