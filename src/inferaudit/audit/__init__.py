"""The audit: per (model, harness, cache policy) triple, what a task and a solved task cost.

``run_audit`` reads the ledger, prices every call with the price book, and
returns one JSON-able dict (the shape documented in the README); the
report part renders it. The audit knows no wire format and no
presentation.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Sequence

from .. import __version__
from ..ledger import Ledger
from ..pricing import PriceBook
from ..usage import BUCKETS
from .checks import published_checks, reported_cost_checks
from .costs import create_priced_calls
from .runs import load_runs
from .sessions import sessions
from .triples import DIMENSIONS, annotate_pareto, group_runs, headline, triple_metrics
from .waste import analyse as analyse_waste

__all__ = ["DIMENSIONS", "cached_audit", "run_audit"]

MAX_PROBLEMS = 200
REVISION = 3  # bump when the audit's logic changes, so reports cached by an older release are not reused


def run_audit(
    ledger: Ledger,
    book: PriceBook | None = None,
    *,
    by: Sequence[str] = DIMENSIONS,
    benchmark: str | None = None,
    within_points: float = 3.0,
) -> dict[str, Any]:
    """Audit everything in ``ledger``; see the README for the returned shape."""
    unknown = [d for d in by if d not in DIMENSIONS]
    if unknown:
        raise ValueError(f"cannot group by {unknown}; choose from {', '.join(DIMENSIONS)}")
    con = ledger.con
    book = book or PriceBook.load()
    origins = create_priced_calls(con, book)
    runs = load_runs(con, benchmark)
    published_wall = {
        (m, h, b): w for m, h, b, w in con.execute(
            "SELECT model, harness, benchmark, avg(wall_time_s) FROM published WHERE wall_time_s IS NOT NULL GROUP BY ALL"
        ).fetchall()
    }
    groups = group_runs(runs, by)
    triples = [triple_metrics(key, members, published_wall) for key, members in groups.items()]
    triples.sort(key=lambda t: (str(t["benchmark"]), -(t["success_rate"] or 0), t["cost_per_run"] or 0))
    annotate_pareto(triples)
    problems, problem_count = _problems(con)
    totals = _totals(con, runs, benchmark)
    waste = analyse_waste(con, runs, book, totals["cost_usd"])
    return {
        "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "inferaudit_version": __version__,
        "ledger": str(ledger.path),
        "grouping": list(by),
        "benchmark_filter": benchmark,
        "totals": totals,
        "headline": headline(triples, within_points),
        "levers": waste.pop("levers"),
        "waste": waste,
        "triples": triples,
        "sessions": sessions(con, runs),
        "unpriced": _unpriced(con),
        "prices": [{"provider": p, "model": m, "origin": o} for (p, m), o in sorted(origins.items(), key=str)],
        "warnings": published_checks(con, runs) + reported_cost_checks(runs),
        "problems": problems,
        "problem_count": problem_count,
    }


def cached_audit(
    ledger: Ledger,
    book: PriceBook | None = None,
    *,
    by: Sequence[str] = DIMENSIONS,
    benchmark: str | None = None,
    within_points: float = 3.0,
) -> dict[str, Any]:
    """``run_audit``, reusing the last result while the ledger, the prices and the options are unchanged."""
    import hashlib

    import orjson

    book = book or PriceBook.load()
    key = hashlib.sha1(orjson.dumps([list(by), benchmark, within_points, book.fingerprint(), __version__, REVISION])).hexdigest()
    cached = ledger.cached_report(key)
    if cached is not None:
        return orjson.loads(cached)
    report = run_audit(ledger, book, by=by, benchmark=benchmark, within_points=within_points)
    ledger.store_report(key, orjson.dumps(report).decode())
    return report


def _totals(con, runs, benchmark) -> dict[str, Any]:
    tokens = {b: sum(r.tokens[b] for r in runs) for b in BUCKETS}
    prompt = sum(tokens[b] for b in ("input", "cache_read", "cache_write_5m", "cache_write_1h"))
    costs = [r.cost for r in runs if r.cost is not None]
    return {
        **tokens,
        "cost_usd": sum(costs),
        "cost_from_calls_usd": sum(r.cost for r in runs if r.calls and r.cost is not None),
        "cost_reported_only_usd": sum(r.cost for r in runs if not r.calls and r.cost is not None),
        "unpriced_tokens": sum(r.unpriced_tokens for r in runs),
        "calls": sum(r.calls or 0 for r in runs),
        "runs": len(runs),
        "cache_hit_rate": tokens["cache_read"] / prompt if prompt else None,
    }


def _unpriced(con) -> list[dict[str, Any]]:
    rows = con.execute(
        f"""SELECT provider, model, count(*), {", ".join(f"sum({b})" for b in BUCKETS)}
            FROM priced_calls WHERE NOT priced GROUP BY provider, model ORDER BY count(*) DESC"""
    ).fetchall()
    return [{"provider": r[0], "model": r[1], "calls": r[2], "tokens": dict(zip(BUCKETS, map(int, r[3:])))} for r in rows]


def _problems(con) -> tuple[list[dict[str, Any]], int]:
    total = con.execute("SELECT count(*) FROM problems").fetchone()[0]
    rows = con.execute(
        "SELECT file, line, reason FROM problems ORDER BY file, line NULLS FIRST LIMIT ?", [MAX_PROBLEMS]
    ).fetchall()
    return [{"file": f, "line": line, "reason": reason} for f, line, reason in rows], total
