"""Route eval on real HumanEval problems with the real local model beside two scripted models.

SmolLM2-135M is a real candidate here, served by ``serve-model``'s server
behind the gateway; it fails nearly every HumanEval problem, and whatever it
scores is what its own answers earned. It is priced as a self-hosted box
(``--prices``), dearer per token than the commodity API model, so by hand:
commodity (5 of 6) is the cheapest route over the 0.8 bar, frontier (6 of
6) is its fallback, and the local model is dominated by commodity.
"""

from __future__ import annotations

import json

import pytest
import yaml
from typer.testing import CliRunner

from inferaudit.cli import app
from inferaudit.speculative.server import ModelServer
from inferaudit.testing.app_thread import AppThread

from .conftest import answering, provider, solution, wrong

pytestmark = pytest.mark.model

PRICES = {"frontier-1": (3.0, 15.0), "commodity-1": (0.15, 0.60), "smollm2-135m-instruct": (1.0, 4.0)}


def test_local_model_and_two_scripted_models_on_humaneval(tmp_path, humaneval_rows, smollm2):
    rows = humaneval_rows[:6]
    frontier_answers = {r["task_id"]: solution(r) for r in rows}
    commodity_answers = {r["task_id"]: wrong(r) if r["task_id"] == "HumanEval/3" else solution(r) for r in rows}
    prices = tmp_path / "prices.yaml"
    prices.write_text(yaml.safe_dump({"models": [{"model": m, "input": i, "output": o} for m, (i, o) in PRICES.items()]}))
    evals = tmp_path / "evals.yaml"
    evals.write_text(yaml.safe_dump({"items": [{"humaneval": "bundled", "feature": "codegen", "limit": 6}]}))
    with answering(frontier_answers) as frontier, answering(commodity_answers) as commodity, \
            AppThread(ModelServer(smollm2).app()) as local:
        candidates = tmp_path / "candidates.yaml"
        candidates.write_text(yaml.safe_dump({
            "gateway": {"config": {"providers": {"big": provider(frontier.url), "small": provider(commodity.url),
                                                 "box": {"base_url": local.url, "protocol": "openai-chat"}},
                                   "models": {"frontier": {"provider": "big", "model": "frontier-1"},
                                              "commodity": {"provider": "small", "model": "commodity-1"},
                                              "local": {"provider": "box", "model": "smollm2-135m-instruct"}}}},
            "bar": 0.8, "request": {"max_tokens": 96, "temperature": 0},
            "candidates": [{"name": n, "model": n, "tier": t} for n, t in
                           (("frontier", "frontier"), ("commodity", "commodity"), ("local", "self-hosted"))],
        }))
        result = CliRunner().invoke(app, ["route", "eval", str(evals), "--candidates", str(candidates), "--json",
                                          "--prices", str(prices), "--ledger", str(tmp_path / "l.duckdb"), "-j", "2"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    [codegen] = report["features"]
    scores = {s["candidate"]: s for s in codegen["scores"]}
    assert (scores["frontier"]["passed"], scores["commodity"]["passed"]) == (6, 5)
    local_items = [i for i in report["items"] if i["candidate"] == "local"]
    assert len(local_items) == 6 and all(i["outcome"] in ("passed", "failed") for i in local_items)  # answered
    assert all(i["tokens"]["output"] > 0 and i["served_model"] == "smollm2-135m-instruct" for i in local_items)
    # by hand: each local call costs its real tokens at the box's price
    local_cost = sum(i["tokens"]["input"] * 1.0 + i["tokens"]["output"] * 4.0 for i in local_items) / 1e6
    assert scores["local"]["cost_usd"] == pytest.approx(local_cost, rel=1e-12)
    assert scores["local"]["quality"] < 0.8 <= scores["commodity"]["quality"]
    assert scores["local"]["cost_per_item_usd"] > scores["commodity"]["cost_per_item_usd"]
    assert codegen["recommended"] == "commodity" and codegen["fallbacks"] == ["frontier"]
    assert scores["local"]["dominated_by"] == ["commodity"] and scores["frontier"]["dominated_by"] == []
