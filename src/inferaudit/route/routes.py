"""A gateway route table from the recommendation: per feature alias, the chosen route then its fallbacks.

``--write-routes FILE`` sets ``models.<alias>`` in FILE: an existing gateway
config keeps everything else (YAML comments are not kept), a new file gets
just the ``models:`` table to merge by hand. Each candidate becomes the
deployments it stands for: its ``deployment`` from the candidates file, else
the deployments of the gateway alias it names, else the gateway's default
OpenAI-chat provider with its model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .candidates import Candidate, CandidatesPlan
from .errors import RouteError
from .recommend import FeatureRoute


def route_table(routes: list[FeatureRoute], plan: CandidatesPlan) -> dict[str, list[dict[str, Any]]]:
    """``{alias: [deployment, ...]}`` for every feature with a recommendation."""
    by_name = {c.name: c for c in plan.candidates}
    table: dict[str, list[dict[str, Any]]] = {}
    for route in routes:
        if route.recommended is None:
            continue
        deployments: list[dict[str, Any]] = []
        for name in [route.recommended, *route.fallbacks]:
            for deployment in _deployments(by_name[name], plan):
                if deployment not in deployments:
                    deployments.append(deployment)
        table[route.alias] = deployments
    return table


def _deployments(candidate: Candidate, plan: CandidatesPlan) -> list[dict[str, Any]]:
    if candidate.deployment:
        return [dict(candidate.deployment)]
    config = plan.gateway_config
    if config is not None and candidate.model in config.models:
        return [{"provider": d.provider, "model": d.model} for d in config.models[candidate.model]]
    if config is not None and "openai-chat" in config.default_providers:
        return [{"provider": config.default_providers["openai-chat"], "model": candidate.model}]
    raise RouteError(f"{plan.source}: candidate {candidate.name!r}: cannot tell which gateway deployment it is; "
                     "give it deployment: {provider, model}")


def write_routes(path: str | Path, table: dict[str, list[dict[str, Any]]]) -> None:
    path = Path(path)
    doc: dict[str, Any] = {}
    if path.exists():
        try:
            doc = yaml.safe_load(path.read_text()) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise RouteError(f"{path}: cannot read it as a gateway config: {exc}") from None
        if not isinstance(doc, dict):
            raise RouteError(f"{path}: not a gateway config (expected a mapping)")
        providers = doc.get("providers") or {}
        for alias, deployments in table.items():
            missing = sorted({d["provider"] for d in deployments} - set(providers))
            if providers and missing:
                raise RouteError(f"{path}: models.{alias}: provider(s) {', '.join(missing)} are not in its providers")
    models = doc.get("models") or {}
    models.update(table)
    doc["models"] = models
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
