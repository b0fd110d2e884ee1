"""The triples file: which (model, harness, cache policy) triples to run, through which gateway.

::

    gateway:                              # where every model call goes (one of):
      url: http://127.0.0.1:4000          #   a gateway already running: it records the calls in its own ledger
      config: gateway.yaml                #   or a gateway config (a file, or inline): started in this process,
                                          #   writing the calls to the same ledger as the Runs (--ledger)
    api_key_env: GATEWAY_KEY              # optional: the gateway's virtual key, from the environment
    harnesses:                            # named harness variants: an adapter and its knobs
      agent-full: {adapter: builtin, context: full}
      agent-lean: {adapter: builtin, context: truncate, keep_last: 6, max_turns: 12}
    triples:
      - {model: gpt-4o-mini, harness: agent-full, cache_policy: none}
      - {model: gpt-4o-mini, harness: agent-lean, cache_policy: auto, base_url: http://127.0.0.1:4001}

A harness not listed under ``harnesses`` may be an adapter's short name
(``builtin``), with its default knobs. Cache policies: ``none``, ``auto``
(or ``automatic``), ``5m`` / ``1h`` (or ``explicit-5m`` / ``explicit-1h``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..gateway.config import ConfigError, GatewayConfig
from .errors import TriplesError
from .fields import Fields, read_yaml
from .harness import ADAPTERS, CACHE_POLICIES


@dataclass(frozen=True)
class Triple:
    model: str
    harness: str
    """The harness variant's name: what the ledger records as the harness."""
    cache_policy: str
    base_url: str | None = None
    """This triple's gateway URL, over the file's ``gateway.url``."""

    @property
    def label(self) -> str:
        return f"{self.model}/{self.harness}/{self.cache_policy}"


@dataclass(frozen=True)
class HarnessSpec:
    name: str
    adapter: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class Plan:
    """A parsed triples file."""

    triples: list[Triple]
    harnesses: dict[str, HarnessSpec]
    gateway_url: str | None = None
    gateway_config: GatewayConfig | None = None
    api_key: str = "inferaudit-bench"
    source: str = "triples"


def load_triples(path: str | Path) -> Plan:
    path = Path(path)
    return plan_from_dict(read_yaml(path, TriplesError), str(path), base=path.parent)


def plan_from_dict(doc: Any, where: str = "triples", base: Path = Path(".")) -> Plan:
    f = Fields(doc, where, TriplesError)
    f.only("gateway", "api_key_env", "harnesses", "triples")
    url, config = gateway_section(f, base)
    harnesses = {}
    raw = f.doc.get("harnesses") or {}
    if not isinstance(raw, dict):
        raise f.fail("harnesses", "expected a mapping of name -> {adapter: ..., knobs}")
    for name, options in raw.items():
        hf = Fields(options, where, TriplesError, f"harnesses.{name}.")
        adapter = hf.str("adapter", "builtin")
        harnesses[str(name)] = HarnessSpec(str(name), adapter, {k: v for k, v in hf.doc.items() if k != "adapter"})
    entries = f.doc.get("triples")
    if not isinstance(entries, list) or not entries:
        raise f.fail("triples", "expected a non-empty list of {model, harness, cache_policy}")
    triples = []
    for i, entry in enumerate(entries):
        tf = Fields(entry, where, TriplesError, f"triples[{i}].")
        tf.only("model", "harness", "cache_policy", "base_url")
        harness = tf.str("harness", required=True)
        if harness not in harnesses:
            if harness not in ADAPTERS:
                raise tf.fail("harness", f"{harness!r} is neither listed under harnesses nor an adapter "
                                         f"({', '.join(ADAPTERS)})")
            harnesses[harness] = HarnessSpec(harness, harness)
        triple = Triple(model=tf.str("model", required=True), harness=harness,
                        cache_policy=tf.choice("cache_policy", CACHE_POLICIES, "none"), base_url=tf.str("base_url"))
        if triple.base_url is None and url is None and config is None:
            raise tf.fail("base_url", "no gateway: give gateway.url, gateway.config or this triple's base_url")
        if triple in triples:
            raise tf.fail("", f"the triple {triple.label} is listed twice")
        triples.append(triple)
    return Plan(triples, harnesses, url, config, api_key_section(f), where)


def api_key_section(f: Fields, default: str = "inferaudit-bench") -> str:
    """The gateway key named by ``api_key_env`` (which must be set), or ``default``."""
    if not f.has("api_key_env"):
        return default
    env = f.str("api_key_env")
    if not os.environ.get(env):
        raise f.fail("api_key_env", f"environment variable {env} is not set")
    return os.environ[env]


def gateway_section(f: Fields, base: Path) -> tuple[str | None, GatewayConfig | None]:
    """The ``gateway:`` section: ``(url, None)`` for a running gateway, ``(None, config)`` for one to start."""
    g = f.sub("gateway")
    g.only("url", "config")
    if g.has("url") and g.has("config"):
        raise g.fail("url", "give url or config, not both")
    config = g.doc.get("config")
    try:
        if isinstance(config, str):
            return None, GatewayConfig.load(base / config)
        if isinstance(config, dict):
            return None, GatewayConfig.from_dict(config, where=f"{f.where}: gateway.config")
    except ConfigError as exc:
        raise f.error(str(exc)) from None
    if config is not None:
        raise g.fail("config", "expected a file name or a mapping")
    return g.str("url"), None
