"""Per feature: each candidate's quality, cost and latency, the cheapest route over the bar, the dominated ones.

For one feature and one candidate, over the feature's items:

- ``quality`` = items passed / items (a request that failed counts as not passed);
- ``cost_per_item`` = the candidate's USD over those items / items (None when any call is unpriced);
- latency: the median and the 95th percentile of request latency.

The recommended route is the cheapest candidate whose quality reaches the
bar (ties: higher quality, then lower median latency). A candidate is
*dominated* when another is at least as good on quality and at least as
cheap, and strictly better on one of the two: keeping it buys nothing.
Unpriced candidates are scored but neither recommended nor compared on cost.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .runner import EvalRun, ItemResult


@dataclass
class Score:
    candidate: str
    model: str
    tier: str | None
    items: int
    passed: int
    errors: int
    cost_usd: float | None
    latency_p50_s: float
    latency_p95_s: float
    meets_bar: bool = False
    dominated_by: list[str] = field(default_factory=list)

    @property
    def quality(self) -> float:
        return self.passed / self.items if self.items else 0.0

    @property
    def cost_per_item(self) -> float | None:
        return None if self.cost_usd is None or not self.items else self.cost_usd / self.items


@dataclass
class FeatureRoute:
    feature: str
    bar: float
    alias: str
    scores: list[Score]
    recommended: str | None
    why: str
    fallbacks: list[str] = field(default_factory=list)
    """Other candidates over the bar, cheapest first: the route's fallbacks."""


def recommend(run: EvalRun) -> list[FeatureRoute]:
    by_feature: dict[str, list[ItemResult]] = {}
    for result in run.results:
        by_feature.setdefault(result.feature, []).append(result)
    routes = []
    for name in sorted(by_feature):
        feature = run.evalset.feature(name)
        bar = feature.bar if feature.bar is not None else run.plan.bar
        scores = [_score(c, [r for r in by_feature[name] if r.candidate == c.name], bar) for c in run.plan.candidates]
        _mark_dominated(scores)
        routes.append(_choose(name, bar, feature.alias or name, scores))
    return routes


def _score(candidate, results: list[ItemResult], bar: float) -> Score:
    costs = [r.cost_usd for r in results]
    latencies = sorted(r.latency_s for r in results)
    score = Score(candidate.name, candidate.model, candidate.tier, len(results), sum(r.passed for r in results),
                  sum(r.outcome == "error" for r in results),
                  None if any(c is None for c in costs) else math.fsum(costs),
                  _percentile(latencies, 0.5), _percentile(latencies, 0.95))
    score.meets_bar = score.items > 0 and score.quality >= bar
    return score


def _percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile of sorted values (0 for none)."""
    if not values:
        return 0.0
    return values[max(0, math.ceil(q * len(values)) - 1)]


def _mark_dominated(scores: list[Score]) -> None:
    priced = [s for s in scores if s.cost_usd is not None]
    for a in priced:
        for b in priced:
            if b is a:
                continue
            better_or_equal = b.quality >= a.quality and b.cost_usd <= a.cost_usd
            strictly = b.quality > a.quality or b.cost_usd < a.cost_usd
            if better_or_equal and strictly:
                a.dominated_by.append(b.candidate)


def _choose(feature: str, bar: float, alias: str, scores: list[Score]) -> FeatureRoute:
    over = sorted((s for s in scores if s.meets_bar and s.cost_usd is not None),
                  key=lambda s: (s.cost_usd, -s.quality, s.latency_p50_s))
    if over:
        best = over[0]
        why = (f"cheapest over the bar {bar:.0%}: quality {best.quality:.0%} at "
               f"${best.cost_per_item:.6f} per item")
        return FeatureRoute(feature, bar, alias, scores, best.candidate, why, [s.candidate for s in over[1:]])
    unpriced = [s.candidate for s in scores if s.meets_bar and s.cost_usd is None]
    top = max(scores, key=lambda s: s.quality)
    why = f"no priced candidate reaches the bar {bar:.0%} (best: {top.candidate} at {top.quality:.0%})"
    if unpriced:
        why += f"; {', '.join(unpriced)} reach it but are unpriced: give them a price in a --prices file"
    return FeatureRoute(feature, bar, alias, scores, None, why)


def eval_report(run: EvalRun, routes: list[FeatureRoute]) -> dict:
    """The eval as plain data: per feature the scores and the recommendation, then every item's result."""
    return {
        "eval": run.evalset.name,
        "eval_id": run.eval_id,
        "candidates": [{"name": c.name, "model": c.model, "tier": c.tier} for c in run.plan.candidates],
        "left_out": list(run.evalset.problems),
        "features": [{
            "feature": r.feature, "bar": r.bar, "alias": r.alias, "recommended": r.recommended, "why": r.why,
            "fallbacks": r.fallbacks,
            "scores": [{"candidate": s.candidate, "model": s.model, "tier": s.tier, "items": s.items,
                        "passed": s.passed, "errors": s.errors, "quality": s.quality, "cost_usd": s.cost_usd,
                        "cost_per_item_usd": s.cost_per_item, "latency_p50_s": s.latency_p50_s,
                        "latency_p95_s": s.latency_p95_s, "meets_bar": s.meets_bar, "dominated_by": s.dominated_by}
                       for s in r.scores],
        } for r in routes],
        "items": [{"candidate": i.candidate, "item": i.item, "feature": i.feature, "outcome": i.outcome,
                   "detail": i.detail, "latency_s": i.latency_s, "cost_usd": i.cost_usd,
                   "served_model": i.served_model, "run_id": i.run_id, "tokens": i.tokens.as_dict()}
                  for i in run.results],
    }
