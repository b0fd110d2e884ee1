"""Pareto frontier on (success rate up, cost down), dominance, and the headline spread.

Points are compared only within a benchmark: success on SWE-bench says
nothing about GAIA.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence


@dataclass(frozen=True)
class Point:
    key: Any
    success: float  # 0..1
    cost: float  # lower is better (USD per run, or seconds)


def dominates(a: Point, b: Point) -> bool:
    """``a`` is at least as good as ``b`` on both axes and better on one."""
    return a.success >= b.success and a.cost <= b.cost and (a.success > b.success or a.cost < b.cost)


def frontier(points: Sequence[Point]) -> set[Any]:
    """Keys of the points no other point dominates."""
    return {p.key for p in points if not any(dominates(q, p) for q in points if q is not p)}


def dominators(point: Point, points: Sequence[Point], limit: int = 3) -> list[tuple[Point, float]]:
    """Who dominates ``point``, with the factor ``point.cost / other.cost``, largest first."""
    found = [(q, point.cost / q.cost if q.cost > 0 else float("inf")) for q in points if q is not point and dominates(q, point)]
    found.sort(key=lambda pair: (-pair[1], -pair[0].success))
    return found[:limit]


def describe(factor: float, point: Point, other: Point, unit: str = "cost") -> str:
    """'2.1x the cost at lower success' — how ``point`` compares with the ``other`` that dominates it."""
    if factor == float("inf"):
        ratio = f"more {unit} than a free alternative"
    else:
        ratio = f"{factor:.1f}x the {unit}"
    if point.success < other.success:
        return f"{ratio} at lower success ({point.success:.1%} vs {other.success:.1%})"
    return f"{ratio} at equal success ({point.success:.1%})"


def spread(points: Sequence[Point], within: float) -> tuple[Point, Point, float] | None:
    """The largest cost ratio among pairs whose success rates differ by at most ``within`` (0..1)."""
    best = None
    priced = [p for p in points if p.cost > 0]
    for cheap in priced:
        for dear in priced:
            if dear.cost <= cheap.cost or abs(dear.success - cheap.success) > within + 1e-12:
                continue
            ratio = dear.cost / cheap.cost
            if best is None or ratio > best[2]:
                best = (cheap, dear, ratio)
    return best
