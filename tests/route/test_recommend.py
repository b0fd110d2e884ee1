"""The recommendation, the dominated routes and the route table, on results whose answer is worked out by hand."""

from __future__ import annotations

import pytest
import yaml

from inferaudit.route import (Candidate, CandidatesPlan, EvalRun, EvalSet, ItemResult, RouteError, recommend,
                              route_table, write_routes)
from inferaudit.route.evalset import Feature


def results(candidate: str, passed: int, cost: float | None, latency: float = 0.5, feature: str = "qa", n: int = 4):
    return [ItemResult(candidate, f"q{i}", feature, "passed" if i < passed else "failed", latency_s=latency,
                       cost_usd=cost) for i in range(n)]


def eval_run(features: dict[str, Feature] | None = None, bar: float = 0.7) -> EvalRun:
    candidates = [Candidate("frontier", "big-model", "frontier", deployment={"provider": "anthropic", "model": "big-model"}),
                  Candidate("commodity", "small-model", "commodity", deployment={"provider": "openai", "model": "small-model"}),
                  Candidate("mid", "mid-model", "commodity"),
                  Candidate("local", "smollm2", "self-hosted")]
    rows = (results("frontier", 4, 0.01, latency=2.0) + results("commodity", 3, 0.001)
            + results("mid", 2, 0.004) + results("local", 1, None, latency=0.1))
    return EvalRun("e1", EvalSet("evals", [], features or {}), CandidatesPlan(candidates, bar=bar), rows)


def test_cheapest_over_the_bar_wins_and_the_dominated_route_is_named():
    [route] = recommend(eval_run())
    scores = {s.candidate: s for s in route.scores}
    # by hand: quality 4/4, 3/4, 2/4, 1/4; $ per item 0.01, 0.001, 0.004, unpriced; bar 0.7
    assert [scores[c].quality for c in ("frontier", "commodity", "mid", "local")] == [1.0, 0.75, 0.5, 0.25]
    assert scores["commodity"].cost_per_item == pytest.approx(0.001) and scores["mid"].cost_usd == pytest.approx(0.016)
    assert route.recommended == "commodity" and route.fallbacks == ["frontier"]
    assert scores["mid"].dominated_by == ["commodity"]  # worse and dearer than commodity; frontier is dearer
    assert scores["frontier"].dominated_by == [] and scores["commodity"].dominated_by == []
    assert scores["local"].dominated_by == [] and scores["local"].cost_usd is None  # unpriced: not compared on cost
    assert scores["frontier"].latency_p50_s == 2.0
    assert "quality 75%" in route.why and "$0.001000 per item" in route.why


def test_a_feature_bar_over_the_file_bar_changes_the_route():
    [route] = recommend(eval_run({"qa": Feature("qa", bar=0.9, alias="qa-model")}))
    assert route.recommended == "frontier" and route.fallbacks == [] and route.alias == "qa-model" and route.bar == 0.9


def test_no_candidate_over_the_bar_says_so_and_names_the_best():
    run = eval_run(bar=1.0)
    run.results = [r for r in run.results if r.candidate != "frontier"]
    run.plan.candidates = run.plan.candidates[1:]
    [route] = recommend(run)
    assert route.recommended is None and "best: commodity at 75%" in route.why


def test_an_unpriced_candidate_over_the_bar_is_not_recommended_but_named():
    run = eval_run(bar=0.2)
    [route] = recommend(run)
    assert route.recommended == "commodity"
    run.plan.candidates = [c for c in run.plan.candidates if c.name == "local"]
    run.results = [r for r in run.results if r.candidate == "local"]
    [route] = recommend(run)
    assert route.recommended is None and "local reach it but are unpriced" in route.why


def test_equal_routes_do_not_dominate_each_other():
    run = eval_run()
    run.results = results("frontier", 3, 0.002) + results("commodity", 3, 0.002)
    run.plan.candidates = run.plan.candidates[:2]
    [route] = recommend(run)
    assert all(s.dominated_by == [] for s in route.scores)


def test_the_route_table_lists_the_choice_then_its_fallbacks(tmp_path):
    routes = recommend(eval_run())
    assert route_table(routes, eval_run().plan) == {"qa": [{"provider": "openai", "model": "small-model"},
                                                          {"provider": "anthropic", "model": "big-model"}]}
    config = tmp_path / "gateway.yaml"
    config.write_text(yaml.safe_dump({"providers": {"openai": {"base_url": "http://a"}, "anthropic": {"base_url": "http://b"}},
                                      "models": {"other": {"provider": "openai", "model": "x"}}}))
    write_routes(config, route_table(routes, eval_run().plan))
    written = yaml.safe_load(config.read_text())
    assert written["models"]["other"] == {"provider": "openai", "model": "x"}  # the rest of the config is kept
    assert written["models"]["qa"][0] == {"provider": "openai", "model": "small-model"}
    config.write_text(yaml.safe_dump({"providers": {"openai": {"base_url": "http://a"}}}))
    with pytest.raises(RouteError, match="provider\\(s\\) anthropic are not in its providers"):
        write_routes(config, route_table(routes, eval_run().plan))


def test_a_candidate_with_no_known_deployment_cannot_be_written():
    run = eval_run(bar=0.5)
    [route] = recommend(run)
    assert route.recommended == "commodity" and route.fallbacks == ["mid", "frontier"]
    with pytest.raises(RouteError, match="candidate 'mid': cannot tell which gateway deployment"):
        route_table([route], run.plan)
