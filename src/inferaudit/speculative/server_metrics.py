"""Speculative counters from a server's Prometheus ``/metrics``, read as deltas around a run.

Servers count drafts process-wide; a benchmark scrapes before and after a batch of requests
and keeps the difference. Each server family is one :class:`CounterNames` in
:data:`SERVER_COUNTERS`; today vLLM:

- ``vllm:spec_decode_num_drafts_total``: verification steps (one draft per request per step);
- ``vllm:spec_decode_num_draft_tokens_total``: draft tokens proposed;
- ``vllm:spec_decode_num_accepted_tokens_total``: draft tokens accepted;
- ``vllm:spec_decode_num_accepted_tokens_per_pos_total{position="i"}``: accepted at draft position i.

Samples are summed over the other labels (``engine``), filtered to one ``model_name`` when
asked. A scrape without these counters gives ``None`` ("no acceptance data"); so does a
counter that went backwards (the server restarted mid-run): a delta across a restart is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client.parser import text_string_to_metric_families

from ..providers.spec_counters import SpecCounters


@dataclass(frozen=True)
class CounterNames:
    """The sample names of one server family's speculative counters."""

    drafts: str
    draft_tokens: str
    accepted_tokens: str
    accepted_per_position: str | None = None
    position_label: str = "position"
    model_label: str = "model_name"


SERVER_COUNTERS: dict[str, CounterNames] = {
    "vllm": CounterNames(
        drafts="vllm:spec_decode_num_drafts_total",
        draft_tokens="vllm:spec_decode_num_draft_tokens_total",
        accepted_tokens="vllm:spec_decode_num_accepted_tokens_total",
        accepted_per_position="vllm:spec_decode_num_accepted_tokens_per_pos_total",
    ),
}


@dataclass(frozen=True)
class CounterSnapshot:
    """One scrape's speculative counters (family name, totals, per-position totals)."""

    family: str
    drafts: float
    draft_tokens: float
    accepted_tokens: float
    per_position: dict[int, float] = field(default_factory=dict)

    def __sub__(self, before: CounterSnapshot) -> SpecCounters | None:
        """Counters of what happened between ``before`` and this scrape; None across a restart."""
        deltas = [self.drafts - before.drafts, self.draft_tokens - before.draft_tokens,
                  self.accepted_tokens - before.accepted_tokens]
        positions = {p: v - before.per_position.get(p, 0.0) for p, v in self.per_position.items()}
        if min(deltas + list(positions.values()) + [0.0]) < 0:
            return None
        per_position = tuple(round(positions[p]) for p in sorted(positions)) if positions else None
        steps, drafted, accepted = (round(d) for d in deltas)
        return SpecCounters(f"{self.family} /metrics", drafted, accepted, steps, per_position)


def snapshot(text: str, model: str | None = None) -> CounterSnapshot | None:
    """The speculative counters of one ``/metrics`` scrape, or None when the server exports none."""
    samples = [s for family in text_string_to_metric_families(text) for s in family.samples]
    for family, names in SERVER_COUNTERS.items():
        wanted = [s for s in samples if not model or s.labels.get(names.model_label, model) == model]
        totals = {name: sum(s.value for s in wanted if s.name == name)
                  for name in (names.drafts, names.draft_tokens, names.accepted_tokens)}
        if not any(s.name in totals for s in wanted):
            continue
        per_position: dict[int, float] = {}
        for s in wanted:
            if s.name == names.accepted_per_position and s.labels.get(names.position_label, "").isdigit():
                pos = int(s.labels[names.position_label])
                per_position[pos] = per_position.get(pos, 0.0) + s.value
        return CounterSnapshot(family, totals[names.drafts], totals[names.draft_tokens],
                               totals[names.accepted_tokens], per_position)
    return None


def delta(before: CounterSnapshot | None, after: CounterSnapshot | None) -> SpecCounters | None:
    """``after - before``; None when either scrape lacks the counters (no acceptance data)."""
    if before is None or after is None or before.family != after.family:
        return None
    return after - before
