"""Acceptance alerts over the ledger: the same rule as the Prometheus one, on stored calls.

The threshold applies to the draft acceptance rate (accepted / drafted over
the window, per slice), as in ``rules/spec_alerts.yml``; see the advisor for
its relation to the per-token acceptance alpha.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import duckdb


@dataclass(frozen=True)
class SliceAcceptance:
    model: str | None
    feature: str | None
    drafted: int
    accepted: int
    steps: int
    calls: int

    @property
    def rate(self) -> float:
        return self.accepted / self.drafted if self.drafted else 0.0


def slices(con: duckdb.DuckDBPyConnection, window: timedelta) -> list[SliceAcceptance]:
    """Acceptance per (model, feature) over the last ``window`` of calls that carry speculative counters."""
    rows = con.execute(
        """WITH spec AS (SELECT * FROM calls WHERE spec_draft_tokens > 0),
                edge AS (SELECT max(coalesce(ended_at, started_at)) AS last FROM spec)
           SELECT model, feature, sum(spec_draft_tokens), sum(spec_accepted_tokens), sum(spec_steps), count(*)
           FROM spec, edge
           WHERE coalesce(ended_at, started_at) > edge.last - ? OR edge.last IS NULL
           GROUP BY model, feature ORDER BY model, feature""",
        [window],
    ).fetchall()
    return [SliceAcceptance(m, f, int(d), int(a or 0), int(s or 0), int(n)) for m, f, d, a, s, n in rows]


def firing(found: list[SliceAcceptance], threshold: float = 0.60, min_drafted: int = 200) -> list[SliceAcceptance]:
    """Slices below the threshold with enough drafted tokens to say so."""
    return [s for s in found if s.drafted >= min_drafted and s.rate < threshold]
