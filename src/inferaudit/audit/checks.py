"""Data-quality checks: published figures against their own records, reported against computed cost.

These are warnings, never errors: the audit goes on with the records.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import duckdb

from .runs import RunRow

COST_TOLERANCE = 0.01  # reported vs computed: disagreement beyond 1% is flagged


def published_checks(con: duckdb.DuckDBPyConnection, runs: list[RunRow]) -> list[dict[str, Any]]:
    """Compare each published score and cost per instance with what its per-instance records say."""
    folders: dict[tuple[str, str], list[RunRow]] = defaultdict(list)
    for run in runs:
        if run.source_file and run.benchmark and not run.calls:
            folders[(str(Path(run.source_file).parent.parent), run.benchmark)].append(run)
    warnings = []
    rows = con.execute("SELECT grp, benchmark, success_rate, cost_per_run, source_file FROM published ORDER BY grp, benchmark").fetchall()
    for grp, benchmark, score, cost, source_file in rows:
        records = folders.get((str(Path(source_file).parent), benchmark)) if source_file else None
        if not records:
            continue
        n = len(records)
        resolved = sum(r.outcome == "resolved" for r in records)
        no_verdict = sum(r.outcome == "unknown" for r in records)
        computed = 100 * resolved / n
        where = f"{grp} {benchmark}"
        if score is not None and round(computed, 1) != round(score, 1):
            warnings.append({
                "kind": "published-success-mismatch", "group": where,
                "message": f"records give {resolved}/{n} = {computed:.1f}% resolved; scores.json publishes {score:g}",
            })
        if no_verdict:
            warnings.append({
                "kind": "no-verdict", "group": where,
                "message": f"{no_verdict} of {n} instances have no verdict (resolved: null); counted unresolved",
            })
        costs = [r.cost_reported for r in records if r.cost_reported is not None]
        zeros = sum(c == 0 for c in costs)
        if zeros:
            warnings.append({
                "kind": "zero-cost-instances", "group": where,
                "message": f"{zeros} of {n} instances report cost 0.0: treated as unknown (a cost per run needs 90% of instances priced)",
            })
        if costs and cost is not None:
            mean = sum(costs) / len(costs)
            if abs(mean - cost) > max(0.01, 0.05 * cost):
                warnings.append({
                    "kind": "published-cost-mismatch", "group": where,
                    "message": f"records give ${mean:.2f} per instance; scores.json publishes ${cost:.2f}",
                })
    return warnings


def reported_cost_checks(runs: list[RunRow]) -> list[dict[str, Any]]:
    """Where a log reports its own cost beside ours, flag disagreement beyond 1%."""
    out = []
    for run in runs:
        reported = run.calls_reported_cost
        if reported is None or run.cost_computed is None:
            continue
        if abs(reported - run.cost_computed) > COST_TOLERANCE * max(abs(run.cost_computed), 1e-9):
            out.append({
                "kind": "reported-cost-divergence", "group": run.run_id,
                "message": f"log reports ${reported:.4f}; computed ${run.cost_computed:.4f} "
                           f"({(reported - run.cost_computed) / run.cost_computed:+.1%})" if run.cost_computed else
                           f"log reports ${reported:.4f}; computed $0",
            })
    return out
