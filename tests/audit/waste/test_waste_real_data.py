"""The waste section on the bundled real data: Claude Code sessions and the SWE-bench leaderboard."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from inferaudit.audit import run_audit
from inferaudit.ledger import Ledger, ingest
from inferaudit.pricing import PriceBook

SAMPLES = Path(__file__).resolve().parents[3] / "data" / "samples"


def _audit(tmp_path_factory, *paths):
    with Ledger(tmp_path_factory.mktemp("ledger") / "l.duckdb") as ledger:
        ingest(ledger, [SAMPLES / p for p in paths])
        return run_audit(ledger)


@pytest.fixture(scope="module")
def claude_code(tmp_path_factory):
    return _audit(tmp_path_factory, "claude-code")


def test_cache_behaviour_of_the_real_sessions(claude_code):
    report = claude_code
    cache, totals = report["waste"]["cache"], report["totals"]
    assert cache["calls"] == totals["calls"] == 530
    assert cache["hit_rate"] == pytest.approx(totals["cache_hit_rate"])
    by_cause = {k: v["count"] for k, v in cache["misses"]["by_cause"].items()}
    assert by_cause == {"ttl_expiry": 2, "compaction": 3, "model_switch": 1, "prefix_change": 1}
    assert cache["wasted_writes"]["count"] == 15 and cache["wasted_writes"]["usd"] > 0
    assert sum(s["misses"]["usd"] for s in cache["sessions"]) == pytest.approx(cache["misses"]["usd"])
    assert sum(s["wasted_writes"]["usd"] for s in cache["sessions"]) == pytest.approx(cache["wasted_writes"]["usd"])


def test_every_example_names_the_line_of_its_call(claude_code):
    cache = claude_code["waste"]["cache"]
    examples = cache["examples"] + cache["wasted_examples"]
    assert examples
    for e in examples:
        line = Path(e["file"]).read_text().splitlines()[e["line"] - 1]
        assert json.loads(line)["message"]["id"] in e["call_id"]


def test_a_real_ttl_expiry_is_priced_by_hand(claude_code):
    # 4d5611e5 line 1254: 19 minutes after the previous call, which had read 79,483 and written 3,375 tokens (5m)
    e = next(x for x in claude_code["waste"]["cache"]["examples"] if x["line"] == 1254)
    assert e["cause"] == "ttl_expiry" and e["tokens"] == 79_483 + 3_375 and e["gap_s"] > 1_100
    r = PriceBook.load().rates("anthropic", "claude-opus-4-6", date(2026, 2, 12)).for_prompt(83_566)
    assert e["usd"] == pytest.approx(82_858 * (r.cache_write_5m - r.cache_read) / 1e6)


def test_ttl_what_if_is_consistent_with_the_audit_totals(claude_code):
    what_if, total = claude_code["waste"]["what_if"], claude_code["totals"]["cost_usd"]
    ttl = what_if["cache_ttl"]
    assert ttl["calls"] == 530 and ttl["actual_policy"] == "5m+1h"
    assert ttl["actual_usd"] == pytest.approx(total, rel=1e-9)
    assert what_if["no_cache_all_calls"]["actual_usd"] == pytest.approx(total, rel=1e-9)
    policies = {k: v["usd"] for k, v in ttl["policies"].items()}
    # the two 5m sessions cost more on 1h and the 1h session more on 5m: the TTLs used were the right ones
    assert total < policies["5m"] < policies["1h"] < policies["none"]
    assert not any(lv["key"] == "cache_ttl" for lv in claude_code["levers"])
    assert {c["line"] for s in claude_code["waste"]["context"]["sessions"] for c in s["compactions"]} == {714, 754, 1481}


def test_levers_on_the_real_sessions_are_labelled(claude_code):
    levers = claude_code["levers"]
    assert [lv["usd"] for lv in levers] == sorted((lv["usd"] for lv in levers), reverse=True)
    basis = {lv["key"]: lv["basis"] for lv in levers}
    assert basis["model_tier"] == "upper bound" and basis["context_growth"] == "upper bound"
    assert basis["wasted_writes"] == "measured"


def test_loop_cap_what_if_on_the_swebench_leaderboard(tmp_path_factory):
    report = _audit(tmp_path_factory, "swebench-leaderboard")
    data = json.loads((SAMPLES / "swebench-leaderboard" / "info_for_leaderboard.json").read_text())
    groups = {g["model"]: g for g in report["waste"]["loop_caps"]}
    assert set(groups) == set(data)
    for model, instances in data.items():
        g = groups[model]
        assert g["runs"] == 500 and len(g["caps"]) >= 3
        for cap in g["caps"]:
            n = cap["cap"]
            over = [v for v in instances.values() if v["api_calls"] > n]
            assert cap["successes_lost"] == sum(v["resolved"] for v in over)
            assert cap["saved_usd"] == pytest.approx(sum(v["cost"] * (v["api_calls"] - n) / v["api_calls"] for v in over))
        assert g["caps"][-1]["successes_lost"] == 0  # the last cap is the longest successful run
    lever = next(lv for lv in report["levers"] if lv["key"] == "loop_cap")
    assert lever["basis"] == "estimate" and lever["usd"] > 0
