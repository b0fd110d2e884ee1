"""Loop caps: turns and cost per run, and what a cap on turns would have saved and lost.

Per (model, harness, benchmark): the distribution of turns (calls) and
cost per run. Where runs have a verified outcome, each candidate cap N
(percentiles of the turns successful runs took) is replayed:

- ``saved_usd``: the cost every run spent past turn N;
- ``saved_on_failed_usd``: the part of it spent by runs that failed anyway;
- ``successes_lost``: runs that succeeded after more than N turns (a cap
  would have stopped them first).

With per-call records the cost past turn N is exact. A result set that
reports only a run's total cost and call count (the SWE-bench
leaderboard's ``api_calls``) gives an **estimate**: the cost spread evenly
over its calls. Later calls usually cost more (the context grows), so the
even spread understates the saving.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

from ..runs import RunRow
from .calls import CallView

PERCENTILES = (50, 75, 90, 95, 99, 100)
MAX_LOSS = 0.01  # the cap the lever proposes may lose at most this share of a group's successes


def nearest_rank(values: list[int], p: float) -> int:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def loop_caps(runs: list[RunRow], calls_by_run: dict[str, list[CallView]]) -> list[dict[str, Any]]:
    groups: dict[tuple, list[tuple[RunRow, int, list[float] | None]]] = defaultdict(list)
    for run in runs:
        calls = calls_by_run.get(run.run_id)
        costs = [c.cost or 0.0 for c in calls] if calls and run.cost_computed is not None else None
        turns = len(calls) if calls else run.calls_reported
        if turns and run.cost is not None:
            groups[(run.model, run.harness, run.benchmark)].append((run, turns, costs))
    out = [_group(key, members) for key, members in groups.items()]
    out.sort(key=lambda g: -g["cost_usd"])
    return out


def _group(key: tuple, members: list[tuple[RunRow, int, list[float] | None]]) -> dict[str, Any]:
    model, harness, benchmark = key
    turns = [t for _, t, _ in members]
    costs = [r.cost for r, _, _ in members]
    verified = [(r, t, c) for r, t, c in members if r.outcome in ("resolved", "failed") and r.verified_by]
    exact = all(c is not None for _, _, c in members)
    resolved_turns = [t for r, t, _ in verified if r.outcome == "resolved"]
    caps = sorted({nearest_rank(resolved_turns, p) for p in PERCENTILES}) if resolved_turns else []
    return {
        "model": model, "harness": harness, "benchmark": benchmark,
        "runs": len(members), "verified_runs": len(verified), "resolved": len(resolved_turns),
        "cost_usd": sum(costs),
        "turns": {"p50": nearest_rank(turns, 50), "p90": nearest_rank(turns, 90), "max": max(turns)},
        "cost_per_run": {"p50": _pct(costs, 50), "p90": _pct(costs, 90), "max": max(costs)},
        "basis": "per-call costs" if exact else "estimate: each run's cost spread evenly over its calls",
        "caps": [_cap(n, verified) for n in caps],
    }


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def _past(run: RunRow, turns: int, costs: list[float] | None, cap: int) -> float:
    if turns <= cap:
        return 0.0
    if costs is not None:
        return sum(costs[cap:])
    return run.cost * (turns - cap) / turns


def _cap(cap: int, verified: list[tuple[RunRow, int, list[float] | None]]) -> dict[str, Any]:
    saved = failed_saved = 0.0
    capped = lost = 0
    for run, turns, costs in verified:
        past = _past(run, turns, costs, cap)
        if turns > cap:
            capped += 1
            lost += run.outcome == "resolved"
        saved += past
        if run.outcome == "failed":
            failed_saved += past
    total = sum(r.cost for r, _, _ in verified)
    resolved = sum(r.outcome == "resolved" for r, _, _ in verified)
    after = total - saved
    return {
        "cap": cap, "runs_capped": capped, "successes_lost": lost,
        "saved_usd": saved, "saved_on_failed_usd": failed_saved,
        "success_rate_before": resolved / len(verified), "success_rate_after": (resolved - lost) / len(verified),
        "cost_per_success_before": total / resolved if resolved else None,
        "cost_per_success_after": after / (resolved - lost) if resolved - lost else None,
    }


def proposed_cap(group: dict[str, Any]) -> dict[str, Any] | None:
    """The cap saving most while losing at most ``MAX_LOSS`` of the group's successes."""
    allowed = [c for c in group["caps"] if c["successes_lost"] <= MAX_LOSS * group["resolved"] and c["saved_usd"] > 0]
    return max(allowed, key=lambda c: c["saved_usd"]) if allowed else None
