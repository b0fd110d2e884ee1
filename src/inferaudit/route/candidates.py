"""The candidates file: which models to evaluate, through which gateway, against which quality bar.

::

    gateway:                       # where every request goes (as in a bench triples file):
      url: http://127.0.0.1:4000   #   a running gateway (its ledger records the calls), or
      config: gateway.yaml         #   a gateway config, started in this process, writing to --ledger
    api_key_env: GATEWAY_KEY       # optional: the gateway's virtual key
    bar: 0.8                       # the quality bar (share of items passed) a route must reach; per
                                   # feature in the eval set's ``features:`` over this
    request: {max_tokens: 512, temperature: 0}   # sent with every request (any chat-completions field)
    candidates:
      - {name: frontier, model: claude-sonnet-4-5, tier: frontier}
      - {name: commodity, model: gpt-4o-mini, tier: commodity, price_as: "openai:gpt-4o-mini"}
      - {name: local, model: smollm2, tier: self-hosted, deployment: {provider: local, model: smollm2-135m}}

``model`` is what the requests name (a gateway alias or a model the gateway
routes by default). ``price_as`` (``[provider:]model``) is how its calls are
priced when the served model's name is not in the price book; give
self-hosted models a price in a ``--prices`` file (their cost is real: the
hardware). ``deployment`` is what a route table written from the
recommendation points at, when ``model`` is not an alias of the gateway
config.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..bench.fields import Fields, read_yaml
from ..bench.triples import api_key_section, gateway_section
from ..gateway.config import GatewayConfig
from .errors import CandidatesError

DEFAULT_REQUEST: dict[str, Any] = {"max_tokens": 512, "temperature": 0}
RESERVED = ("model", "messages", "stream", "stream_options")


@dataclass(frozen=True)
class Candidate:
    name: str
    model: str
    tier: str | None = None
    price_provider: str | None = None
    price_model: str | None = None
    deployment: dict[str, str] | None = None


@dataclass
class CandidatesPlan:
    candidates: list[Candidate]
    bar: float = 0.8
    request: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_REQUEST))
    gateway_url: str | None = None
    gateway_config: GatewayConfig | None = None
    api_key: str = "inferaudit-route-eval"
    source: str = "candidates"


def load_candidates(path: str | Path) -> CandidatesPlan:
    path = Path(path)
    return candidates_from_dict(read_yaml(path, CandidatesError), str(path), base=path.parent)


def candidates_from_dict(doc: Any, where: str = "candidates", base: Path = Path(".")) -> CandidatesPlan:
    f = Fields(doc, where, CandidatesError)
    f.only("gateway", "api_key_env", "bar", "request", "candidates")
    url, config = gateway_section(f, base)
    if url is None and config is None:
        raise f.fail("gateway", "give url (a running gateway) or config (one to start)")
    bar = f.number("bar", 0.8, positive=False)
    if not 0 <= bar <= 1:
        raise f.fail("bar", f"a share of items passed, from 0 to 1; got {bar}")
    request = dict(DEFAULT_REQUEST)
    extra = f.doc.get("request") or {}
    if not isinstance(extra, dict):
        raise f.fail("request", "expected a mapping of chat-completions fields")
    if clash := sorted(set(extra) & set(RESERVED)):
        raise f.fail("request", f"{', '.join(clash)} are set by the eval, not here")
    request.update(extra)
    entries = f.doc.get("candidates")
    if not isinstance(entries, list) or not entries:
        raise f.fail("candidates", "expected a non-empty list of {name, model}")
    candidates: list[Candidate] = []
    for i, entry in enumerate(entries):
        cf = Fields(entry, where, CandidatesError, f"candidates[{i}].")
        cf.only("name", "model", "tier", "price_as", "deployment")
        model = cf.str("model", required=True)
        name = cf.str("name", model)
        if any(c.name == name for c in candidates):
            raise cf.fail("name", f"{name!r} is used twice")
        provider, _, priced = (cf.str("price_as") or "").rpartition(":")
        deployment = cf.doc.get("deployment")
        if deployment is not None:
            df = cf.sub("deployment")
            df.only("provider", "model")
            deployment = {"provider": df.str("provider", required=True), "model": df.str("model", model)}
        candidates.append(Candidate(name, model, cf.str("tier"), provider or None, priced or None, deployment))
    return CandidatesPlan(candidates, bar, request, url, config, api_key_section(f, "inferaudit-route-eval"), where)
