"""Per-class figures of a benchmark run, each endpoint beside the baseline (the first endpoint).

- **TTFT** and **ITL** are medians over requests; ITL is the time per output token after
  the first (vLLM's TPOT), so a speculative step that lands four tokens in one chunk
  counts as four tokens, not one slow gap and three free ones.
- **tok/s** is output tokens over summed request latency: the decode speed one user sees.
- **speedup** is this endpoint's tok/s over the baseline's, same class and concurrency.
- **acceptance** is summed over requests (accepted / drafted: vLLM's draft acceptance
  rate), once from the per-request fields and once from the ``/metrics`` delta; a server
  that sent neither gives None, shown as "no acceptance data".
- **mismatches**: prompts whose greedy output differs from the baseline's.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from ...providers.spec_counters import SpecCounters
from .client import RequestResult
from .runner import BatchMetrics, BenchRun

ALL = "all"


@dataclass
class ClassSummary:
    endpoint: str
    concurrency: int
    cls: str
    requests: int
    errors: int
    output_tokens: int
    ttft_p50: float | None
    itl_p50: float | None
    tokens_per_s: float | None
    latency_mean: float | None
    spec_requests: SpecCounters | None  # summed per-request counters
    spec_reported: int  # requests that carried counters
    spec_metrics: SpecCounters | None  # summed /metrics deltas
    metrics_note: str
    speedup: float | None = None
    compared: int = 0
    mismatches: list[str] = field(default_factory=list)


def _median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def _sum_counters(parts: list[SpecCounters]) -> SpecCounters | None:
    return sum(parts[1:], parts[0]) if parts else None


def _summary(endpoint: str, concurrency: int, cls: str, results: list[RequestResult],
             batches: list[BatchMetrics]) -> ClassSummary:
    ok = [r for r in results if r.ok]
    tokens = sum(r.output_tokens or 0 for r in ok)
    busy = sum(r.latency for r in ok)
    reported = [r.spec for r in ok if r.spec is not None]
    deltas = [b.counters for b in batches if b.counters is not None]
    notes = sorted({b.note for b in batches})
    return ClassSummary(
        endpoint, concurrency, cls, len(results), len(results) - len(ok), tokens,
        _median([r.ttft for r in ok]), _median([r.itl for r in ok]),
        tokens / busy if ok and busy > 0 else None, busy / len(ok) if ok else None,
        _sum_counters(reported), len(reported),
        _sum_counters(deltas) if len(deltas) == len(batches) else None, ", ".join(notes),
    )


def summarize(run: BenchRun) -> list[ClassSummary]:
    """One row per (concurrency, class, endpoint), classes in prompt order then ``all``."""
    config = run.config
    classes = list(dict.fromkeys(p.cls for p in config.prompts))
    baseline = config.endpoints[0].label
    rows: list[ClassSummary] = []
    for concurrency in config.concurrency:
        for cls in [*classes, ALL]:
            picked = {e.label: [r for r in run.results if r.endpoint == e.label and r.concurrency == concurrency
                                and (cls == ALL or r.cls == cls)] for e in config.endpoints}
            base_text = {r.prompt_id: r.text for r in picked[baseline] if r.ok}
            base = None
            for endpoint in config.endpoints:
                batches = [b for b in run.metrics if b.endpoint == endpoint.label and b.concurrency == concurrency
                           and (cls == ALL or b.cls == cls)]
                row = _summary(endpoint.label, concurrency, cls, picked[endpoint.label], batches)
                base = base or row
                if row.tokens_per_s and base.tokens_per_s:
                    row.speedup = row.tokens_per_s / base.tokens_per_s
                if endpoint.label != baseline:
                    same = [r for r in picked[endpoint.label] if r.ok and r.prompt_id in base_text]
                    row.compared = len(same)
                    row.mismatches = [r.prompt_id for r in same if r.text != base_text[r.prompt_id]]
                rows.append(row)
    return rows
