"""Loop caps from per-call records: the cost past turn N is the calls after the N-th, exactly."""

from __future__ import annotations

import pytest

from inferaudit.audit.runs import RunRow
from inferaudit.audit.waste.calls import CallView
from inferaudit.audit.waste.loops import loop_caps, nearest_rank, proposed_cap
from inferaudit.usage import Tokens


def run(run_id: str, outcome: str, costs: list[float]) -> tuple[RunRow, list[CallView]]:
    row = RunRow(run_id, "bench", "m", "5m", "suite", outcome, "verifier", len(costs), None, {}, sum(costs), None, 0, 0,
                 None, None, None, None, None, "bench", None, None, run_id)
    calls = [CallView(f"{run_id}:{i}", run_id, "", "p", "m", "bench", None, None, Tokens(), c, None, "ok", 1, {}, None, None)
             for i, c in enumerate(costs)]
    return row, calls


def test_cost_past_the_cap_is_exact_with_per_call_costs():
    data = [run("ok-short", "resolved", [1, 2]), run("ok-long", "resolved", [1, 2, 3, 4]),
            run("failed", "failed", [1, 1, 5, 7, 9])]
    (group,) = loop_caps([r for r, _ in data], {r.run_id: calls for r, calls in data})
    assert group["basis"] == "per-call costs" and group["turns"] == {"p50": 4, "p90": 5, "max": 5}
    caps = {c["cap"]: c for c in group["caps"]}
    assert list(caps) == [2, 4]  # p50 of (2, 4) is 2; every higher percentile is 4
    # cap 2: ok-long loses its last two calls (3 + 4) and its success; failed loses 5 + 7 + 9
    assert (caps[2]["saved_usd"], caps[2]["saved_on_failed_usd"], caps[2]["successes_lost"]) == (28, 21, 1)
    assert (caps[4]["saved_usd"], caps[4]["saved_on_failed_usd"], caps[4]["successes_lost"]) == (9, 9, 0)
    assert caps[4]["cost_per_success_after"] == pytest.approx((3 + 10 + 23 - 9) / 2)
    assert proposed_cap(group)["cap"] == 4


def test_nearest_rank_percentile():
    assert [nearest_rank([10, 20, 30], p) for p in (1, 50, 67, 100)] == [10, 20, 30, 30]
