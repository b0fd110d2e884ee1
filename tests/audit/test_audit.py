"""The audit over the ledger: exact costs, per-triple metrics, frontiers, checks."""

import json

import pytest

from inferaudit.audit import run_audit
from inferaudit.ledger import Ledger, ingest
from inferaudit.pricing import PriceBook
from inferaudit.sources import discover
from inferaudit.sources.base import Cursor
from inferaudit.usage import Call


def python_cost(paths):
    """An independent computation: every call priced one by one in Python, no SQL."""
    book, calls = PriceBook.load(), {}
    for unit in discover(paths):
        for r in unit.source.read(unit.path, Cursor()):
            if isinstance(r, Call):
                prev = calls.get(r.call_id)
                calls[r.call_id] = r if prev is None else prev
                if prev is not None:
                    prev.tokens = prev.tokens.max(r.tokens)
    return sum(book.cost(c.provider, c.model, c.tokens, c.started_at or c.ended_at) for c in calls.values())


def test_claude_code_cost_matches_the_acceptance_figure_two_ways(ledger, samples):
    ingest(ledger, [samples / "claude-code"])
    report = run_audit(ledger)
    t = report["totals"]
    assert (t["input"], t["output"], t["cache_read"], t["cache_write_5m"], t["cache_write_1h"]) == (
        5464, 118740, 45195438, 937099, 276819)
    assert t["cost_usd"] == pytest.approx(27.95, rel=0.005)
    assert t["cost_usd"] == pytest.approx(python_cost([samples / "claude-code"]), rel=1e-9)
    assert t["unpriced_tokens"] == 0


def test_codex_cost_matches_the_acceptance_figure_two_ways(ledger, samples):
    ingest(ledger, [samples / "codex"])
    t = run_audit(ledger)["totals"]
    assert (t["input"], t["cache_read"], t["output"], t["reasoning"]) == (802635, 13176832, 73456, 35245)
    hand = (802635 * 1.75 + 13176832 * 0.175 + 73456 * 14) / 1e6
    assert t["cost_usd"] == pytest.approx(4.739, rel=0.005)
    assert t["cost_usd"] == pytest.approx(hand, rel=1e-9)
    assert t["cost_usd"] == pytest.approx(python_cost([samples / "codex"]), rel=1e-9)


def test_sessions_triples_and_cache_policies_from_logs(ledger, samples):
    ingest(ledger, [samples / "claude-code", samples / "codex"])
    report = run_audit(ledger)
    triples = {(t["model"], t["harness"], t["cache_policy"]): t for t in report["triples"]}
    assert set(triples) == {("claude-opus-4-6", "claude-code", "5m"), ("claude-opus-4-6", "claude-code", "1h"),
                            ("gpt-5.3-codex", "codex", "auto")}
    codex = triples[("gpt-5.3-codex", "codex", "auto")]
    assert codex["runs"] == 3 and codex["calls_per_run"] == 55
    assert codex["success_rate"] is None and codex["cost_per_success"] is None
    assert codex["cache_hit_rate"] == pytest.approx(13176832 / (802635 + 13176832))
    assert sum(codex["cost_by_bucket"].values()) == pytest.approx(codex["cost_usd"])
    assert len(report["sessions"]) == 6
    s = report["sessions"][0]
    assert s["timeline"][-1][1] == pytest.approx(s["cost_usd"])
    assert sum(x["cost_usd"] for x in report["sessions"]) == pytest.approx(report["totals"]["cost_usd"])


def test_openhands_success_from_records_and_published_mismatch_flagged(ledger, samples):
    ingest(ledger, [samples / "openhands-index"])
    report = run_audit(ledger, benchmark="swe-bench")
    gem = next(t for t in report["triples"] if t["model"] == "Gemini-3.1-Pro" and t["harness"] == "OpenHands")
    assert (gem["runs"], gem["resolved"], gem["success_rate"]) == (500, 385, 0.77)
    lo, hi = gem["success_ci"]
    assert lo < 0.77 < hi and hi - lo < 0.08
    msgs = [w for w in report["warnings"] if w["group"] == "results/Gemini-3.1-Pro swe-bench"]
    assert any(w["kind"] == "published-success-mismatch" and "385/500 = 77.0%" in w["message"]
               and "76.8" in w["message"] for w in msgs)
    assert any(w["kind"] == "zero-cost-instances" for w in run_audit(ledger)["warnings"])
    assert report["headline"] and report["headline"][0]["ratio"] > 5


def test_zero_reported_costs_do_not_make_a_triple_free(ledger, samples):
    ingest(ledger, [samples / "openhands-index" / "alternative_agents" / "acp-codex"])
    report = run_audit(ledger, benchmark="commit0")
    gpt54 = next(t for t in report["triples"] if t["model"] == "GPT-5.4")
    assert gpt54["cost_per_run"] is None and gpt54["priced_runs"] == 0
    assert all(not d["factor"] == float("inf") for t in report["triples"] for d in t["dominated_by"])


def test_pareto_and_dominance_on_a_hand_built_result_set(ledger, tmp_path):
    data = {
        "cheap-good": {f"i{i}": {"resolved": i < 8, "cost": 1.0, "api_calls": 10} for i in range(10)},
        "dear-worse": {f"i{i}": {"resolved": i < 7, "cost": 2.1, "api_calls": 30} for i in range(10)},
        "dear-best": {f"i{i}": {"resolved": i < 9, "cost": 5.0, "api_calls": 50} for i in range(10)},
    }
    path = tmp_path / "info_for_leaderboard.json"
    path.write_text(json.dumps(data))
    ingest(ledger, [path])
    report = run_audit(ledger, within_points=10)
    t = {x["model"]: x for x in report["triples"]}
    assert t["cheap-good"]["pareto"]["cost"] and t["dear-best"]["pareto"]["cost"]
    assert not t["dear-worse"]["pareto"]["cost"]
    dom = t["dear-worse"]["dominated_by"][0]
    assert dom["model"] == "cheap-good" and dom["factor"] == pytest.approx(2.1)
    assert dom["text"].startswith("2.1x the cost at lower success")
    assert t["cheap-good"]["cost_per_success"] == pytest.approx(1.0 / 0.8)
    assert t["dear-worse"]["calls_per_run"] == 30
    head = report["headline"][0]
    assert head["cheap"]["model"] == "cheap-good" and head["expensive"]["model"] == "dear-best"
    assert head["ratio"] == pytest.approx(5.0)


def test_unknown_model_is_listed_unpriced_with_its_tokens(ledger, tmp_path):
    log = tmp_path / "s.jsonl"
    log.write_text(json.dumps({
        "parentUuid": None, "isSidechain": False, "type": "assistant", "sessionId": "s", "uuid": "u1", "requestId": "r1", "timestamp": "2026-01-01T00:00:00Z",
        "message": {"id": "m1", "model": "claude-imaginary-9", "usage": {"input_tokens": 10, "output_tokens": 20,
                                                                          "cache_read_input_tokens": 70}}}) + "\n")
    ingest(ledger, [log])
    report = run_audit(ledger)
    assert report["unpriced"] == [{"provider": "anthropic", "model": "claude-imaginary-9", "calls": 1, "tokens": {
        "input": 10, "cache_read": 70, "cache_write_5m": 0, "cache_write_1h": 0, "output": 20, "reasoning": 0}}]
    assert report["totals"]["unpriced_tokens"] == 100
    triple = report["triples"][0]
    assert triple["cost_per_run"] is None and triple["unpriced_tokens"] == 100


def test_reported_cost_kept_beside_computed_and_divergence_flagged(ledger, tmp_path):
    def line(i, cost):
        return json.dumps({
            "parentUuid": None, "type": "assistant", "sessionId": f"s{i}", "uuid": f"u{i}", "requestId": f"r{i}", "costUSD": cost,
            "timestamp": "2026-01-01T00:00:00Z", "message": {"id": f"m{i}", "model": "claude-haiku-4-5-20251001",
                                                             "usage": {"input_tokens": 1_000_000, "output_tokens": 0}}}) + "\n"
    (tmp_path / "a.jsonl").write_text(line(1, 1.0))  # $1/M input: agrees
    (tmp_path / "b.jsonl").write_text(line(2, 1.5))  # 50% off
    ingest(ledger, [tmp_path])
    warnings = [w for w in run_audit(ledger)["warnings"] if w["kind"] == "reported-cost-divergence"]
    assert [w["group"] for w in warnings] == ["claude-code:s2"]
    assert "+50.0%" in warnings[0]["message"]


def test_grouping_is_selectable_and_checked(ledger, samples):
    ingest(ledger, [samples / "claude-code"])
    by_model = run_audit(ledger, by=["model"])
    assert [(t["model"], t["harness"], t["cache_policy"]) for t in by_model["triples"]] == [("claude-opus-4-6", "*", "*")]
    with pytest.raises(ValueError, match="cannot group by"):
        run_audit(ledger, by=["colour"])


def test_override_prices_reprice_history(ledger, samples, tmp_path):
    ingest(ledger, [samples / "codex"])
    prices = tmp_path / "p.yaml"
    prices.write_text("models:\n  - model: gpt-5.3-codex\n    input: 1\n    cache_read: 0.1\n    output: 10\n")
    t = run_audit(ledger, PriceBook.load(prices))["totals"]
    assert t["cost_usd"] == pytest.approx((802635 * 1 + 13176832 * 0.1 + 73456 * 10) / 1e6)
    report = run_audit(ledger, PriceBook.load(prices))
    assert report["prices"][0]["origin"].startswith("override")


def test_calls_without_a_run_are_runs_of_their_own(ledger, tmp_path):
    from inferaudit.gateway.writer import LedgerWriter
    from inferaudit.usage import Tokens

    ledger.close()
    writer = LedgerWriter(ledger.path, flush_s=0.01)
    for i, model in enumerate(["claude-haiku-4-5", "claude-haiku-4-5", "gpt-4o-mini"]):
        writer.submit(Call(call_id=f"g{i}", source="gateway", provider="anthropic" if "claude" in model else "openai",
                           model=model, harness="sdk", tokens=Tokens(input=1000, output=100)))
    writer.start()
    writer.close()
    with Ledger(ledger.path) as reopened:
        triples = {t["model"]: t for t in run_audit(reopened)["triples"]}
    assert set(triples) == {"claude-haiku-4-5", "gpt-4o-mini"}
    assert triples["claude-haiku-4-5"]["runs"] == 2 and triples["claude-haiku-4-5"]["calls_per_run"] == 1
