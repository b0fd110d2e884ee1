"""``inferaudit route eval`` end to end: an in-process gateway, two scripted models, four verifier kinds.

The scripted models answer chosen items right and the rest wrong, so the
quality of each candidate is known; each call's tokens are what the
scripted model reported, so its cost is worked out here by hand from the
price file and compared with the eval's, the Runs' and the ledger's.
"""

from __future__ import annotations

import json

import pytest
import yaml
from typer.testing import CliRunner

from inferaudit.cli import app
from inferaudit.gateway import GatewayConfig
from inferaudit.ledger import Ledger

from .conftest import answering, provider, solution, wrong

PRICES = {"frontier-1": (3.0, 15.0), "commodity-1": (0.15, 0.60)}  # USD per million input / output tokens
SQL_SETUP = ("CREATE TABLE orders(customer TEXT, total DOUBLE); "
             "INSERT INTO orders VALUES ('ann', 10), ('bo', 5), ('ann', 2.5), ('cy', 7)")


def evalset(tmp_path):
    doc = {"name": "team-evals", "features": {"codegen": {"bar": 0.75, "alias": "codegen-model"}},
           "items": [
               {"humaneval": "bundled", "feature": "codegen", "limit": 4},
               {"id": "capital", "feature": "qa", "prompt": "Capital of France? One word.", "verifier": {"exact": "Paris"}},
               {"id": "total", "feature": "extract", "prompt": "Total of 'Due: 12.50 EUR' as JSON {total, currency}",
                "verifier": {"json_schema": {"type": "object", "required": ["total", "currency"],
                                             "properties": {"total": {"type": "number"}}}}},
               {"id": "top", "feature": "sql", "prompt": "Spend per customer over 6, from orders(customer, total).",
                "verifier": {"sql": {"setup": SQL_SETUP,
                                     "expected": "SELECT customer, sum(total) FROM orders GROUP BY customer HAVING sum(total) > 6"}}},
               {"id": "broken", "feature": "qa", "prompt": "x", "verifier": {"regex": "x"}},
           ]}
    path = tmp_path / "evals.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def test_route_eval_recommends_what_a_hand_computation_expects(tmp_path, humaneval_rows):
    rows = humaneval_rows[:4]
    good = {"capital": "Paris.", "total": '```json\n{"total": 12.5, "currency": "EUR"}\n```',
            "top": "```sql\nSELECT customer, SUM(total) FROM orders GROUP BY customer HAVING SUM(total) > 6;\n```"}
    frontier_answers = {**good, **{r["task_id"]: solution(r) for r in rows}}
    # the commodity model gets HumanEval/2 wrong (3 of 4 codegen items), the JSON wrong, and the rest right
    commodity_answers = {**good, "total": '{"total": "12.50"}',
                         **{r["task_id"]: wrong(r) if r["task_id"] == "HumanEval/2" else solution(r) for r in rows}}
    prices = tmp_path / "prices.yaml"
    prices.write_text(yaml.safe_dump({"models": [{"model": m, "input": i, "output": o} for m, (i, o) in PRICES.items()]}))
    ledger = tmp_path / "ledger.duckdb"
    with answering(frontier_answers) as frontier, answering(commodity_answers) as commodity:
        candidates = tmp_path / "candidates.yaml"
        candidates.write_text(yaml.safe_dump({
            "gateway": {"config": {"providers": {"big": provider(frontier.url), "small": provider(commodity.url)},
                                   "models": {"frontier": {"provider": "big", "model": "frontier-1"},
                                              "commodity": {"provider": "small", "model": "commodity-1"}}}},
            "bar": 0.9,
            "request": {"max_tokens": 300},
            "candidates": [{"name": "frontier", "model": "frontier", "tier": "frontier"},
                           {"name": "commodity", "model": "commodity", "tier": "commodity"}],
        }))
        routes_file = tmp_path / "routes.yaml"
        result = CliRunner().invoke(app, ["route", "eval", str(evalset(tmp_path)), "--candidates", str(candidates),
                                          "--prices", str(prices), "--ledger", str(ledger), "--json",
                                          "--write-routes", str(routes_file), "-j", "3"])
        seen = {"frontier": frontier.requests, "commodity": commodity.requests}
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert len(report["left_out"]) == 1 and "unknown kind 'regex'" in report["left_out"][0]
    features = {f["feature"]: f for f in report["features"]}

    def hand_cost(model: str, items: set[str]) -> float:
        price_in, price_out = PRICES[f"{model}-1"]
        return sum(r.tokens.input * price_in + r.tokens.output * price_out for r in seen[model] if r.task in items) / 1e6

    codegen_items = {r["task_id"] for r in rows}
    scores = {s["candidate"]: s for s in features["codegen"]["scores"]}
    assert (scores["frontier"]["passed"], scores["commodity"]["passed"]) == (4, 3)
    for name in ("frontier", "commodity"):
        assert scores[name]["cost_usd"] == pytest.approx(hand_cost(name, codegen_items), rel=1e-12)
    # codegen's own bar is 0.75: commodity (3/4) reaches it and is the cheaper; frontier is its fallback
    assert features["codegen"]["recommended"] == "commodity" and features["codegen"]["fallbacks"] == ["frontier"]
    # extract falls back to the file's bar 0.9: only the frontier model passes; commodity is below the bar
    extract = {s["candidate"]: s for s in features["extract"]["scores"]}
    assert features["extract"]["recommended"] == "frontier" and not extract["commodity"]["meets_bar"]
    # qa and sql: both pass everything, commodity is cheaper, so frontier is dominated there
    for name in ("qa", "sql"):
        by = {s["candidate"]: s for s in features[name]["scores"]}
        assert features[name]["recommended"] == "commodity" and by["frontier"]["dominated_by"] == ["commodity"]
    assert report["routes_written"]["models"]["codegen-model"] == [{"provider": "small", "model": "commodity-1"},
                                                                   {"provider": "big", "model": "frontier-1"}]
    written = GatewayConfig.from_dict(yaml.safe_load(routes_file.read_text()) | {
        "providers": {"big": {"base_url": "http://x"}, "small": {"base_url": "http://y"}}})
    assert written.models["extract"][0].model == "frontier-1"

    # the ledger: one Run per (candidate, item), and the gateway's one call for each, with the scripted tokens
    with Ledger(ledger, read_only=True) as opened:
        runs = opened.con.execute("SELECT run_id, model, task_id, outcome, cost_reported, verified_by FROM runs "
                                  "WHERE source = 'route-eval'").fetchall()
        calls = opened.con.execute("SELECT run_id, harness, feature, model, input, output FROM calls").fetchall()
    assert len(runs) == len(calls) == 2 * 7
    outcomes = {(model, task): outcome for _, model, task, outcome, _, _ in runs}
    assert outcomes["commodity", "HumanEval/2"] == "failed" and outcomes["frontier", "HumanEval/2"] == "resolved"
    assert outcomes["commodity", "total"] == "failed" and outcomes["commodity", "top"] == "resolved"
    assert {v for *_, v in runs} == {"route-eval:unit_tests", "route-eval:exact", "route-eval:json_schema",
                                     "route-eval:sql"}
    by_run = {c[0]: c for c in calls}
    feature_of = {i["run_id"]: i["feature"] for i in report["items"]}
    for run_id, model, task, _, cost, _ in runs:
        _, harness, feature, served, tokens_in, tokens_out = by_run[run_id]
        assert harness == "route-eval" and feature == feature_of[run_id] and served == f"{model}-1"
        [asked] = [r for r in seen[model] if r.task == task]
        assert (tokens_in, tokens_out) == (asked.tokens.input, asked.tokens.output)
        price_in, price_out = PRICES[served]
        assert cost == pytest.approx((tokens_in * price_in + tokens_out * price_out) / 1e6, rel=1e-12)


def test_a_failing_upstream_is_an_error_not_a_crash_and_the_exit_code_says_no_route(tmp_path):
    candidates = tmp_path / "candidates.yaml"
    candidates.write_text(yaml.safe_dump({
        "gateway": {"config": {"providers": {"gone": {"base_url": "http://127.0.0.1:9", "protocol": "openai-chat"}},
                               "models": {"ghost": {"provider": "gone", "model": "ghost-1"}},
                               "retry": {"attempts": 1}}},
        "candidates": [{"model": "ghost"}]}))
    evals = tmp_path / "evals.jsonl"
    evals.write_text('{"id": "a", "feature": "qa", "prompt": "hi", "verifier": {"exact": "hi"}}\nnot json\n')
    result = CliRunner().invoke(app, ["route", "eval", str(evals), "--candidates", str(candidates),
                                      "--ledger", str(tmp_path / "l.duckdb")], env={"COLUMNS": "300"})
    assert result.exit_code == 1, result.output
    output = " ".join(result.output.split())
    assert "1 request(s) failed" in output and "ghost/a: HTTP 502" in output
    assert f"{evals}:2: not JSON" in output and "no priced candidate reaches the bar" in output


@pytest.mark.parametrize("doc, message", [
    ({"candidates": [{"model": "m"}]}, "gateway: give url"),
    ({"gateway": {"url": "http://x"}, "candidates": [{"model": "m"}, {"model": "m"}]}, "candidates[1].name: 'm' is used twice"),
    ({"gateway": {"url": "http://x"}, "bar": 2, "candidates": [{"model": "m"}]}, "bar: a share of items passed"),
    ({"gateway": {"url": "http://x"}, "request": {"stream": True}, "candidates": [{"model": "m"}]}, "stream are set by the eval"),
])
def test_a_bad_candidates_file_is_refused_with_the_field(tmp_path, doc, message):
    candidates = tmp_path / "c.yaml"
    candidates.write_text(yaml.safe_dump(doc))
    evals = tmp_path / "e.yaml"
    evals.write_text(yaml.safe_dump({"items": [{"id": "a", "feature": "f", "prompt": "p", "verifier": {"exact": "x"}}]}))
    result = CliRunner().invoke(app, ["route", "eval", str(evals), "--candidates", str(candidates)], env={"COLUMNS": "300"})
    assert result.exit_code == 2 and message in result.output and str(candidates) in result.output
