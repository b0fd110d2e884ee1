"""Gateway configuration: a typed object built from YAML (``inferaudit serve --config gateway.yaml``).

Example::

    listen: {host: 127.0.0.1, port: 4000}
    ledger: ./ledger.duckdb            # or env INFERAUDIT_LEDGER
    providers:
      openai:    {base_url: https://api.openai.com, protocol: openai-chat, api_key_env: OPENAI_API_KEY}
      anthropic: {base_url: https://api.anthropic.com, protocol: anthropic-messages, api_key_env: ANTHROPIC_API_KEY}
      local:     {base_url: http://127.0.0.1:8000, protocol: openai-chat}
    models:                            # aliases: an ordered (or weighted) list of deployments
      fast: [{provider: local, model: smollm2-135m}, {provider: openai, model: gpt-4o-mini}]
    default_providers:                 # a model no alias names goes to this provider, as asked
      openai-chat: openai
      openai-responses: openai
      anthropic-messages: anthropic
    keys:                              # virtual keys; when any is set, every request needs one
      - {key_env: TEAM_SEARCH_KEY, name: search, user: search-bot, team: search, models: [fast, "gpt-4o*"]}
    budgets:                           # USD per day | week | month | total; refused with a 403 when spent
      - {key: search, usd: 50, period: month, alert_at: 0.8}
      - {feature: summarise, usd: 5, period: day}

Upstream keys come only from the environment (``api_key_env``) or the file
(``api_key``); they are never written to the ledger, logs, metrics or
error bodies.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..providers import PROTOCOLS
from .budgets import Budget, parse_budgets

_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # an HTTP token (RFC 9110, 5.6.2)


class ConfigError(ValueError):
    """The configuration cannot be used; the message names the file and the field."""


@dataclass(frozen=True)
class Provider:
    name: str
    base_url: str
    protocol: str
    api_key: str | None = field(default=None, repr=False)
    """The upstream key; kept out of repr so it never reaches a log line."""
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    """Extra headers sent upstream on every request."""
    forward_headers: tuple[str, ...] = ()
    """Client request headers passed upstream as they are (lower-case names)."""


@dataclass(frozen=True)
class Deployment:
    provider: str
    model: str
    weight: float = 1.0


@dataclass(frozen=True)
class VirtualKey:
    key: str = field(repr=False)
    user: str | None = None
    team: str | None = None
    name: str | None = None
    """How budgets and the ledger name this key (never the key itself)."""
    models: tuple[str, ...] = ()
    """Models (aliases or names, glob patterns) this key may use; empty: any."""


@dataclass(frozen=True)
class Timeouts:
    connect: float = 10.0
    """Seconds to open a connection upstream."""
    first_byte: float = 120.0
    """Seconds from sending the request to the response's headers."""
    idle: float = 300.0
    """Longest silence allowed inside a streamed response."""


@dataclass(frozen=True)
class Retry:
    attempts: int = 3
    """Upstream attempts per request, fallbacks included (only before any byte reached the client)."""
    budget_s: float = 30.0
    """Total seconds of back-off a request may spend waiting to retry."""


@dataclass(frozen=True)
class GatewayConfig:
    host: str = "127.0.0.1"
    port: int = 4000
    ledger: str | None = None
    providers: dict[str, Provider] = field(default_factory=dict)
    models: dict[str, tuple[Deployment, ...]] = field(default_factory=dict)
    default_providers: dict[str, str] = field(default_factory=dict)
    keys: tuple[VirtualKey, ...] = ()
    timeouts: Timeouts = Timeouts()
    retry: Retry = Retry()
    routing: str = "ordered"
    """``ordered``: deployments in the listed order; ``weighted``: the first one drawn by weight."""
    store_bodies: bool = False
    """Keep prompt and completion bodies in the ledger (off: only usage and attribution)."""
    max_body_bytes: int = 16 << 20
    ledger_batch_rows: int = 2000
    """Most rows per ledger write (DuckDB: a write has a fixed cost of a few ms, so fewer, larger ones)."""
    ledger_flush_s: float = 0.5
    """Longest a finished call's row waits in memory before it is written (what a kill -9 can lose)."""
    ledger_queue_rows: int = 100_000
    ledger_loader_nice: int = 10
    """``inferaudit serve`` writes the ledger from a child process at this added nice value, so that a write
    yields the core to a request (0..19)."""
    gc_tuning: bool = True
    """``inferaudit serve`` freezes its start-up heap out of Python's cyclic garbage collector and collects
    less often (``gateway.app.tune_gc``): full collections otherwise show in the tail latency."""
    spill_dir: str | None = None
    """Where ledger rows wait while the database is unavailable (default: next to the ledger)."""
    budgets: tuple[Budget, ...] = ()
    """Spend limits per key, user, team or feature (see gateway/budgets.py)."""

    @classmethod
    def load(cls, path: str | Path) -> GatewayConfig:
        import yaml

        path = Path(path)
        try:
            doc = yaml.safe_load(path.read_text()) or {}
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: not valid YAML: {exc}") from None
        return cls.from_dict(doc, where=str(path))

    @classmethod
    def from_dict(cls, doc: dict[str, Any], where: str = "config") -> GatewayConfig:
        if not isinstance(doc, dict):
            raise ConfigError(f"{where}: expected a mapping at the top level")
        known = {"listen", "ledger", "providers", "models", "default_providers", "keys", "timeouts", "retry",
                 "routing", "store_bodies", "max_body_bytes", "ledger_batch_rows", "ledger_flush_s",
                 "ledger_queue_rows", "ledger_loader_nice", "gc_tuning", "spill_dir", "budgets"}
        unknown = set(doc) - known
        if unknown:
            raise ConfigError(f"{where}: unknown field(s) {sorted(unknown)}")
        listen = doc.get("listen") or {}
        providers = {name: _provider(where, name, spec) for name, spec in (doc.get("providers") or {}).items()}
        models = {alias: _deployments(where, alias, spec, providers) for alias, spec in (doc.get("models") or {}).items()}
        defaults = dict(doc.get("default_providers") or {})
        for protocol, provider in defaults.items():
            if protocol not in PROTOCOLS:
                raise ConfigError(f"{where}: default_providers: unknown protocol {protocol!r}; known: {sorted(PROTOCOLS)}")
            if provider not in providers:
                raise ConfigError(f"{where}: default_providers.{protocol}: no provider named {provider!r}")
        if doc.get("store_bodies"):
            raise ConfigError(f"{where}: store_bodies: true is not supported yet; bodies are never stored")
        routing = doc.get("routing", "ordered")
        if routing not in ("ordered", "weighted"):
            raise ConfigError(f"{where}: routing must be 'ordered' or 'weighted'")
        return cls(
            host=str(listen.get("host", "127.0.0.1")),
            port=int(listen.get("port", 4000)),
            ledger=doc.get("ledger"),
            providers=providers,
            models=models,
            default_providers=defaults,
            keys=tuple(_key(where, i, spec) for i, spec in enumerate(doc.get("keys") or [], 1)),
            timeouts=Timeouts(**(doc.get("timeouts") or {})),
            retry=Retry(**(doc.get("retry") or {})),
            routing=routing,
            store_bodies=bool(doc.get("store_bodies", False)),
            max_body_bytes=int(doc.get("max_body_bytes", 16 << 20)),
            ledger_batch_rows=int(doc.get("ledger_batch_rows", cls.ledger_batch_rows)),
            ledger_flush_s=float(doc.get("ledger_flush_s", cls.ledger_flush_s)),
            ledger_queue_rows=int(doc.get("ledger_queue_rows", 100_000)),
            ledger_loader_nice=_nice(where, doc.get("ledger_loader_nice", cls.ledger_loader_nice)),
            gc_tuning=_flag(where, "gc_tuning", doc.get("gc_tuning", cls.gc_tuning)),
            spill_dir=doc.get("spill_dir"),
            budgets=parse_budgets(where, doc.get("budgets")),
        )

    def secrets(self) -> list[str]:
        """Every key the gateway holds: what must never appear in its output."""
        return [p.api_key for p in self.providers.values() if p.api_key] + [k.key for k in self.keys]


def _nice(where: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 19:
        raise ConfigError(f"{where}: ledger_loader_nice must be a whole number from 0 to 19, not {value!r}")
    return value


def _flag(where: str, name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{where}: {name} must be true or false, not {value!r}")
    return value


def _secret(where: str, spec: dict[str, Any], field_name: str) -> str | None:
    if spec.get(f"{field_name}_env"):
        name = spec[f"{field_name}_env"]
        value = os.environ.get(name)
        if not value:
            raise ConfigError(f"{where}: environment variable {name} is not set")
        return value
    return spec.get(field_name)


def _provider(where: str, name: str, spec: Any) -> Provider:
    if not isinstance(spec, dict) or not spec.get("base_url"):
        raise ConfigError(f"{where}: providers.{name} needs a base_url")
    protocol = spec.get("protocol", "openai-chat")
    if protocol not in PROTOCOLS:
        raise ConfigError(f"{where}: providers.{name}.protocol {protocol!r} unknown; known: {sorted(PROTOCOLS)}")
    base_url = str(spec["base_url"]).rstrip("/")
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{where}: providers.{name}.base_url must be an http:// or https:// URL, not {base_url!r}")
    headers = spec.get("headers") or {}
    if not isinstance(headers, dict):
        raise ConfigError(f"{where}: providers.{name}.headers must be a mapping of header names to values")
    headers = {str(k): str(v) for k, v in headers.items()}
    for header, value in headers.items():
        if not _HEADER_NAME.fullmatch(header) or any(c in value for c in "\r\n") or not value.isascii():
            raise ConfigError(f"{where}: providers.{name}.headers: {header!r} is not a header name with a one-line "
                              "ASCII value")
    return Provider(name=name, base_url=base_url, protocol=protocol,
                    api_key=_secret(f"{where}: providers.{name}", spec, "api_key"),
                    headers=headers,
                    forward_headers=tuple(h.lower() for h in spec.get("forward_headers") or ()))


def _deployments(where: str, alias: str, spec: Any, providers: dict[str, Provider]) -> tuple[Deployment, ...]:
    items = spec if isinstance(spec, list) else [spec]
    out = []
    for item in items:
        if not isinstance(item, dict) or item.get("provider") not in providers:
            raise ConfigError(f"{where}: models.{alias}: each deployment needs a provider from 'providers'")
        out.append(Deployment(provider=item["provider"], model=str(item.get("model", alias)),
                              weight=float(item.get("weight", 1.0))))
    return tuple(out)


def _key(where: str, index: int, spec: Any) -> VirtualKey:
    if not isinstance(spec, dict):
        raise ConfigError(f"{where}: keys[{index}] must be a mapping")
    key = _secret(f"{where}: keys[{index}]", spec, "key")
    if not key:
        raise ConfigError(f"{where}: keys[{index}] needs key or key_env")
    models = spec.get("models") or ()
    if isinstance(models, str) or not all(isinstance(m, str) for m in models):
        raise ConfigError(f"{where}: keys[{index}].models must be a list of model names or patterns")
    return VirtualKey(key=key, user=spec.get("user"), team=spec.get("team"), name=spec.get("name"), models=tuple(models))
