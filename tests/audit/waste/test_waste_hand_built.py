"""Every number of the waste section on hand-built sessions equals a hand computation.

The sessions, prices and what each call does are tabled in conftest.py.
Amounts below are in millionths of a dollar (µ$), computed by hand.
"""

from __future__ import annotations

import json

import pytest

from inferaudit.audit import run_audit
from inferaudit.audit.costs import create_priced_calls
from inferaudit.audit.waste import context
from inferaudit.audit.waste.calls import load
from inferaudit.ledger import ingest
from inferaudit.pricing import PriceBook

U = 1e-6  # one µ$

# actual cost of each call, µ$: input + reads + writes + output at the table's prices
ACTUAL = {
    "a1": 10 + 20_000 * 1.25 + 500, "a2": 10 + 2_000 + 2_000 * 1.25 + 500, "a3": 10 + 24_000 * 1.25 + 500,
    "a4": 10 + 500 + 3_000 * 1.25 + 500, "a5": 10 + 800 + 1_000 * 1.25 + 500,
    "a6": 50 + 9_000 * 6.25 + 2_500, "a7": 50 + 2_000 + 6_000 * 6.25 + 2_500, "x1": 10 + 5_000 * 1.25 + 250,
    "b1": 10 + 10_000 * 2 + 500, "b2": 10 + 1_000 + 500 * 2 + 500, "b3": 10 + 10_510 * 2 + 500,
}
TOTAL = sum(ACTUAL.values())  # 220,260 µ$


@pytest.fixture
def audit(ledger, hand_built):
    root, prices, lines = hand_built
    ingest(ledger, [root])
    return run_audit(ledger, PriceBook.load(prices)), lines


def test_the_sessions_cost_what_the_table_says(audit):
    report, _ = audit
    assert TOTAL == 220_260
    assert report["totals"]["cost_usd"] == pytest.approx(TOTAL * U)


def test_every_miss_is_found_with_its_cause_and_price(audit):
    report, lines = audit
    misses = report["waste"]["cache"]["misses"]
    causes = {k: (v["count"], v["tokens"], v["usd"]) for k, v in misses["by_cause"].items()}
    # a miss costs its tokens at the rate they were billed (write, then input) less the cache-read rate
    assert causes == {
        "ttl_expiry": (2, 22_000 + 10_500, pytest.approx((22_000 * (1.25 - 0.1) + 10_500 * (2 - 0.1)) * U)),
        "compaction": (1, 3_010, pytest.approx((3_000 * (1.25 - 0.1) + 10 * (1 - 0.1)) * U)),
        "model_switch": (1, 9_000, pytest.approx(9_000 * (6.25 - 0.5) * U)),
        "prefix_change": (1, 5_000, pytest.approx(5_000 * (6.25 - 0.5) * U)),
    }
    assert misses["count"] == 5 and misses["tokens"] == 49_510
    assert misses["usd"] == pytest.approx(sum(v[2] for v in causes.values()))
    examples = report["waste"]["cache"]["examples"]
    assert [(e["line"], e["cause"]) for e in examples] == [
        (lines["a6"], "model_switch"), (lines["a7"], "prefix_change"), (lines["a3"], "ttl_expiry"),
        (lines["b3"], "ttl_expiry"), (lines["a4"], "compaction")]
    a3, b3 = examples[2], examples[3]
    assert (a3["gap_s"], a3["ttl_s"], a3["file"].endswith("A.jsonl")) == (600, 300, True)
    assert (b3["gap_s"], b3["ttl_s"], b3["file"].endswith("B.jsonl")) == (4_000, 3_600, True)


def test_cache_writes_never_read_before_expiry(audit):
    report, lines = audit
    cache = report["waste"]["cache"]
    # unread: a2 2,000 (a3 came after 10 min), a3 16,000 (a4 and a5 read 8,000 of 24,000), a5 1,000,
    # a6 5,000, a7 6,000, x1 5,000 (5m: premium 0.25 haiku, 1.25 opus); b2 500, b3 10,510 (1h: premium 1)
    wasted = cache["wasted_writes"]
    assert (wasted["count"], wasted["tokens"]) == (8, 2_000 + 16_000 + 1_000 + 5_000 + 6_000 + 5_000 + 500 + 10_510)
    a_usd = (2_000 + 16_000 + 1_000 + 5_000) * 0.25 + (5_000 + 6_000) * 1.25
    b_usd = (500 + 10_510) * 1.0
    assert wasted["usd"] == pytest.approx((a_usd + b_usd) * U)
    sessions = {s["run_id"]: s for s in cache["sessions"]}
    assert sessions["claude-code:A"]["wasted_writes"]["usd"] == pytest.approx(a_usd * U)
    assert sessions["claude-code:B"]["misses"]["usd"] == pytest.approx(10_500 * 1.9 * U)
    assert sum(s["misses"]["usd"] for s in cache["sessions"]) == pytest.approx(cache["misses"]["usd"])
    largest = cache["wasted_examples"][0]  # b3: 10,510 x 1 = 10,510 µ$
    assert (largest["line"], largest["file"].endswith("B.jsonl")) == (lines["b3"], True)


def test_ttl_replay_at_5m_1h_and_none(audit):
    report, _ = audit
    ttl = report["waste"]["what_if"]["cache_ttl"]
    assert ttl["actual_usd"] == pytest.approx(report["totals"]["cost_usd"])
    assert ttl["actual_policy"] == "5m+1h"
    # 5m: session A is unchanged; B's writes cost 1.25, and b2 (20 min gap) must write what it read
    b_5m = (10 + 10_000 * 1.25 + 500) + (10 + 10_500 * 1.25 + 500) + (10 + 10_510 * 1.25 + 500)
    a = sum(v for k, v in ACTUAL.items() if k[0] in "ax")
    # 1h: A's writes cost 2 (opus 10); a3's 10 min gap fits an hour: its 22,000 missed tokens are read
    a_1h = ((10 + 40_000 + 500) + (10 + 2_000 + 4_000 + 500) + (10 + 2_200 + 2_000 * 2 + 500) + (10 + 500 + 6_000 + 500)
            + (10 + 800 + 2_000 + 500) + (50 + 90_000 + 2_500) + (50 + 2_000 + 60_000 + 2_500) + (10 + 10_000 + 250))
    b = ACTUAL["b1"] + ACTUAL["b2"] + ACTUAL["b3"]
    # none: every prompt token at the input rate
    none = (20_010 + 22_010 + 24_010 + 8_010 + 9_010 + 500 * 5 + 5_010 + 250 + (9_010 + 10_010) * 5 + 2_500 * 2
            + 10_010 + 10_510 + 10_520 + 1_500)
    policies = {k: v["usd"] for k, v in ttl["policies"].items()}
    assert policies == {"5m": pytest.approx((a + b_5m) * U), "1h": pytest.approx((a_1h + b) * U),
                        "none": pytest.approx(none * U)}
    assert ttl["best"] == "5m"
    assert ttl["policies"]["5m"]["saving_usd"] == pytest.approx((TOTAL - a - b_5m) * U)


def test_retry_events_are_counted_with_their_wait(audit):
    report, lines = audit
    r = report["waste"]["retries"]
    assert (r["retry_events"], r["retry_wait_s"], r["retry_event_statuses"]) == (1, 0.5, {"529": 1})
    assert (r["failed_calls"], r["failed_usd"]) == (0, 0)
    assert r["examples"][0]["line"] == lines["retry"]


def test_compaction_effect_and_context_growth(audit):
    report, lines = audit
    ctx = report["waste"]["context"]
    a = next(s for s in ctx["sessions"] if s["run_id"] == "claude-code:A")
    assert (a["calls"], a["prompt_first"], a["prompt_max"]) == (7, 20_010, 24_010)
    assert a["growth_per_call"] == pytest.approx((10_010 - 20_010) / 6)
    (c,) = a["compactions"]
    assert (c["line"], c["pre_tokens"], c["prompt_before"], c["prompt_after"], c["calls_before"], c["calls_after"]) == (
        lines["compaction"], 24_010, 24_010, 8_010, 3, 4)
    assert c["cost_per_call_before"] == pytest.approx((ACTUAL["a1"] + ACTUAL["a2"] + ACTUAL["a3"]) / 3 * U)
    assert c["cost_per_call_after"] == pytest.approx((ACTUAL["a4"] + ACTUAL["a5"] + ACTUAL["a6"] + ACTUAL["a7"]) / 4 * U)
    assert ctx["context_cap"]["calls_over"] == 0  # nothing here is near 100k tokens


def test_context_cap_prices_the_tokens_above_the_target(ledger, hand_built):
    root, prices, _ = hand_built
    ingest(ledger, [root])
    book = PriceBook.load(prices)
    create_priced_calls(ledger.con, book)
    seen = load(ledger.con, book, {"claude-code:A", "claude-code:B"})
    cap = context.context_growth(seen.threads, seen.events, target=20_000)["context_cap"]
    # a1, a2, a3 are over 20,000 tokens; each pays its prompt cost (cost less output) pro rata
    hand = (ACTUAL["a1"] - 500) * 10 / 20_010 + (ACTUAL["a2"] - 500) * 2_010 / 22_010 + (ACTUAL["a3"] - 500) * 4_010 / 24_010
    assert (cap["calls_over"], cap["tokens_over"]) == (3, 10 + 2_010 + 4_010)
    assert cap["usd"] == pytest.approx(hand * U)


def test_other_model_prices_are_an_upper_bound(audit):
    report, _ = audit
    models = {m["model"]: m for m in report["waste"]["what_if"]["models"]}
    opus = models["claude-opus-4-6"]
    at_haiku = (10 + 9_000 * 1.25 + 500) + (10 + 400 + 6_000 * 1.25 + 500)
    assert opus["actual_usd"] == pytest.approx((ACTUAL["a6"] + ACTUAL["a7"]) * U)
    assert opus["alternatives"] == [{"model": "claude-haiku-4-5", "provider": "anthropic", "usd": pytest.approx(at_haiku * U),
                                     "saving_usd": pytest.approx((ACTUAL["a6"] + ACTUAL["a7"] - at_haiku) * U)}]
    assert opus["basis"].startswith("upper bound")


def test_levers_ranked_by_dollars_with_share_evidence_and_confidence(audit):
    report, lines = audit
    levers = report["levers"]
    usd = {lv["key"]: lv["usd"] for lv in levers}
    assert list(usd) == ["model_tier", "model_switches", "wasted_writes", "prefix_changes", "cache_ttl"]
    assert usd["model_switches"] == pytest.approx(9_000 * 5.75 * U)
    assert usd["cache_ttl"] == pytest.approx(report["waste"]["what_if"]["cache_ttl"]["policies"]["5m"]["saving_usd"])
    for lv in levers:
        assert set(lv) >= {"name", "usd", "share", "evidence", "confidence", "basis"}
        assert lv["share"] == pytest.approx(lv["usd"] / (TOTAL * U))
        assert lv["confidence"] in ("high", "medium", "low")
        assert lv["basis"] in ("measured", "estimate", "upper bound")
    tier = levers[0]
    assert tier["basis"] == "upper bound" and tier["confidence"] == "low"
    switch = levers[1]
    assert switch["evidence"]["examples"][0]["line"] == lines["a6"]


def test_failed_attempts_cost_what_they_billed(ledger, tmp_path):
    from inferaudit.gateway.writer import LedgerWriter
    from inferaudit.usage import Call, Tokens

    prices = tmp_path / "p.yaml"
    prices.write_text("models:\n  - model: m\n    input: 1\n    output: 5\n")
    ledger.close()
    writer = LedgerWriter(ledger.path, flush_s=0.01)
    rows = [("g1", "midstream_error", 1, Tokens(input=2_000, output=1_000)), ("g2", "ok", 2, Tokens(input=2_000, output=900)),
            ("g3", "http_529", 1, Tokens())]
    for call_id, status, attempt, tokens in rows:
        writer.submit(Call(call_id=call_id, source="gateway", provider="p", model="m", harness="sdk", tokens=tokens,
                           status=status, attempt=attempt))
    writer.start()
    writer.close()
    from inferaudit.ledger import Ledger

    with Ledger(ledger.path) as reopened:
        report = run_audit(reopened, PriceBook.load(prices))
    r = report["waste"]["retries"]
    assert (r["failed_calls"], r["retried_calls"]) == (2, 1)
    assert r["failed_usd"] == pytest.approx((2_000 + 5_000) * U)
    assert {k: (v["count"], v["usd"]) for k, v in r["by_status"].items()} == {
        "midstream_error": (1, pytest.approx(7_000 * U)), "http_529": (1, 0)}
    lever = next(lv for lv in report["levers"] if lv["key"] == "retries")
    assert (lever["usd"], lever["basis"], lever["confidence"]) == (pytest.approx(7_000 * U), "measured", "high")


def test_loop_cap_what_if_on_a_hand_built_result_set(ledger, tmp_path):
    runs = {"i0": (True, 1.0, 10), "i1": (True, 2.0, 20), "i2": (True, 3.0, 30), "i3": (False, 4.0, 40), "i4": (False, 5.0, 50)}
    path = tmp_path / "info_for_leaderboard.json"
    path.write_text(json.dumps({"m": {k: {"resolved": r, "cost": c, "api_calls": n} for k, (r, c, n) in runs.items()}}))
    ingest(ledger, [path])
    report = run_audit(ledger)
    (group,) = report["waste"]["loop_caps"]
    assert group["turns"] == {"p50": 30, "p90": 50, "max": 50}
    assert group["basis"].startswith("estimate")
    caps = {c["cap"]: c for c in group["caps"]}
    assert list(caps) == [20, 30]  # percentiles of the successful runs' turns (10, 20, 30)
    # cap 20: i2 keeps 20 of 30 calls (saves 3 x 10/30), i3 saves 4 x 20/40, i4 saves 5 x 30/50; i2's success is lost
    c20 = caps[20]
    assert (c20["runs_capped"], c20["successes_lost"]) == (3, 1)
    assert (c20["saved_usd"], c20["saved_on_failed_usd"]) == (pytest.approx(1 + 2 + 3), pytest.approx(2 + 3))
    assert (c20["success_rate_before"], c20["success_rate_after"]) == (0.6, 0.4)
    assert (c20["cost_per_success_before"], c20["cost_per_success_after"]) == (pytest.approx(5.0), pytest.approx(4.5))
    c30 = caps[30]
    assert (c30["runs_capped"], c30["successes_lost"], c30["saved_usd"]) == (2, 0, pytest.approx(1 + 2))
    assert c30["cost_per_success_after"] == pytest.approx(12 / 3)
    lever = next(lv for lv in report["levers"] if lv["key"] == "loop_cap")
    assert (lever["usd"], lever["basis"], lever["confidence"]) == (pytest.approx(3.0), "estimate", "low")
    assert lever["evidence"]["examples"][0]["cap"] == 30
