"""Per-triple metrics, the Pareto frontiers, dominated triples and the headline spread."""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Iterable, Sequence

from ..pricing import PRICED
from ..usage import BUCKETS
from . import pareto
from .runs import RunRow
from .stats import median, wilson

DIMENSIONS = ("model", "harness", "cache_policy")
MIN_COST_COVERAGE = 0.9  # below this share of runs with a known cost, a cost per run would mislead


def group_runs(runs: Iterable[RunRow], by: Sequence[str]) -> dict[tuple, list[RunRow]]:
    """Runs grouped by the chosen dimensions (always per benchmark); the others show as '*'."""
    groups: dict[tuple, list[RunRow]] = defaultdict(list)
    for run in runs:
        key = tuple(getattr(run, d) if d in by else "*" for d in DIMENSIONS) + (run.benchmark,)
        groups[key].append(run)
    return groups


def triple_metrics(key: tuple, runs: list[RunRow], published_wall: dict[tuple, float]) -> dict[str, Any]:
    model, harness, cache_policy, benchmark = key
    verified = [r for r in runs if r.verified_by]
    resolved = sum(r.outcome == "resolved" for r in runs)
    costs = [r.cost for r in runs if r.cost is not None]
    if len(costs) < MIN_COST_COVERAGE * len(runs):
        costs = []  # e.g. 497 of 500 instances reporting 0.0: the 3 left say nothing about the triple
    total_cost = sum(costs) if costs else None
    tokens = {b: sum(r.tokens[b] for r in runs) for b in BUCKETS}
    with_calls = [r for r in runs if r.calls]
    prompt = sum(tokens[b] for b in ("input", "cache_read", "cache_write_5m", "cache_write_1h"))
    by_bucket = None
    if any(r.cost_by_bucket for r in runs):
        by_bucket = {b: sum((r.cost_by_bucket or {}).get(b) or 0.0 for r in runs) for b in PRICED}
    walls = [r.wall_time_s for r in runs if r.wall_time_s is not None]
    wall = sum(walls) / len(walls) if walls else published_wall.get((model, harness, benchmark))
    n_calls = [r.n_calls for r in runs if r.n_calls]
    success = resolved / len(verified) if verified else None
    return {
        "model": model,
        "harness": harness,
        "cache_policy": cache_policy,
        "benchmark": benchmark,
        "runs": len(runs),
        "resolved": resolved if verified else None,
        "success_rate": success,
        "success_ci": list(wilson(resolved, len(verified))) if verified else None,
        "cost_usd": total_cost,
        "cost_per_run": total_cost / len(costs) if costs else None,
        "cost_per_run_median": median(costs),
        # spend per task over the success rate: stays right when some runs' costs are unknown
        "cost_per_success": (total_cost / len(costs)) / success if (costs and success) else None,
        "priced_runs": sum(r.cost is not None for r in runs),
        "tokens": tokens,
        "tokens_per_run": {b: tokens[b] / len(with_calls) for b in BUCKETS} if with_calls else None,
        "cost_by_bucket": by_bucket,
        "cache_hit_rate": tokens["cache_read"] / prompt if prompt else None,
        "wall_time_s": wall,
        "wall_time_source": "runs" if walls else ("published" if wall is not None else None),
        "calls_per_run": sum(n_calls) / len(n_calls) if n_calls else None,
        "unpriced_tokens": sum(r.unpriced_tokens for r in runs),
        "pareto": {"cost": False, "wall_time": False},
        "dominated_by": [],
    }


def _label(t: dict[str, Any]) -> dict[str, Any]:
    return {k: t[k] for k in ("model", "harness", "cache_policy", "benchmark")}


def annotate_pareto(triples: list[dict[str, Any]]) -> None:
    """Mark frontier triples and name, for each dominated one, who dominates it and by what factor."""
    by_benchmark: dict[Any, list[dict]] = defaultdict(list)
    for t in triples:
        by_benchmark[t["benchmark"]].append(t)
    for group in by_benchmark.values():
        for axis, field in (("cost", "cost_per_run"), ("wall_time", "wall_time_s")):
            points = [pareto.Point(i, t["success_rate"], t[field]) for i, t in enumerate(group)
                      if t["success_rate"] is not None and t[field] is not None]
            front = pareto.frontier(points)
            for p in points:
                t = group[p.key]
                t["pareto"][axis] = p.key in front
                for other, factor in pareto.dominators(p, points):
                    unit = "cost" if axis == "cost" else "wall time"
                    t["dominated_by"].append({**_label(group[other.key]), "axis": axis,
                                              "factor": factor, "text": pareto.describe(factor, p, other, unit)})


def headline(triples: list[dict[str, Any]], within_points: float) -> list[dict[str, Any]]:
    """Per benchmark: the largest cost-per-run ratio among triples within ``within_points`` of success."""
    out = []
    by_benchmark: dict[Any, list[dict]] = defaultdict(list)
    for t in triples:
        if t["success_rate"] is not None and t["cost_per_run"]:
            by_benchmark[t["benchmark"]].append(t)
    for benchmark, group in sorted(by_benchmark.items(), key=lambda kv: str(kv[0])):
        points = [pareto.Point(i, t["success_rate"], t["cost_per_run"]) for i, t in enumerate(group)]
        found = pareto.spread(points, within_points / 100)
        if found is None:
            continue
        cheap, dear, ratio = (group[found[0].key], group[found[1].key], found[2])
        brief = lambda t: {**_label(t), "success_rate": t["success_rate"], "cost_per_run": t["cost_per_run"]}  # noqa: E731
        out.append({
            "benchmark": benchmark,
            "within_points": within_points,
            "ratio": ratio,
            "cheap": brief(cheap),
            "expensive": brief(dear),
            "text": (f"{benchmark or 'all'}: {dear['model']} ({dear['harness']}) costs {ratio:.1f}x per run what "
                     f"{cheap['model']} ({cheap['harness']}) costs, {dear['success_rate']:.1%} vs "
                     f"{cheap['success_rate']:.1%} success (within {within_points:g} points)"),
        })
    return out
