from inferaudit.audit.pareto import Point, describe, dominators, frontier, spread
from inferaudit.audit.stats import median, wilson


def test_frontier_and_dominators():
    pts = [Point("a", 0.8, 1.0), Point("b", 0.7, 2.0), Point("c", 0.9, 5.0), Point("d", 0.8, 1.0)]
    assert frontier(pts) == {"a", "c", "d"}
    doms = dominators(pts[1], pts)
    assert [(p.key, f) for p, f in doms] == [("a", 2.0), ("d", 2.0)]
    assert describe(2.0, pts[1], pts[0]) == "2.0x the cost at lower success (70.0% vs 80.0%)"


def test_spread_only_pairs_within_the_window():
    pts = [Point("a", 0.50, 1.0), Point("b", 0.52, 39.0), Point("c", 0.60, 100.0)]
    cheap, dear, ratio = spread(pts, 0.03)
    assert (cheap.key, dear.key, ratio) == ("a", "b", 39.0)
    assert spread([Point("a", 0.5, 1.0)], 0.03) is None


def test_wilson_interval_known_values():
    # the roots of (p - 0.77)^2 = z^2 p (1 - p) / 500, solved as a quadratic
    lo, hi = wilson(385, 500)
    assert round(lo, 6) == 0.731138 and round(hi, 6) == 0.804745
    assert wilson(0, 0) is None
    assert wilson(0, 10)[0] == 0.0


def test_median():
    assert median([3, 1, 2]) == 2 and median([1, 2, 3, 4]) == 2.5 and median([]) is None
