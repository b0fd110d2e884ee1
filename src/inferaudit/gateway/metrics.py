"""Prometheus metrics for ``/metrics``: one registry per gateway, labelled by provider, model and feature."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from ..usage import BUCKETS, Call

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


class Metrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        labels = ("provider", "model", "feature")
        self.requests = Counter("inferaudit_requests", "Upstream attempts, by outcome", (*labels, "status"),
                                registry=self.registry)
        self.tokens = Counter("inferaudit_tokens", "Tokens by bucket (disjoint; reasoning is inside output)",
                              (*labels, "bucket"), registry=self.registry)
        self.cost = Counter("inferaudit_cost_usd", "Computed cost in USD", labels, registry=self.registry)
        self.latency = Histogram("inferaudit_request_seconds", "Upstream request duration", labels,
                                 buckets=LATENCY_BUCKETS, registry=self.registry)
        self.ttft = Histogram("inferaudit_time_to_first_token_seconds", "Time to the first streamed byte", labels,
                              buckets=LATENCY_BUCKETS, registry=self.registry)
        self.spec_draft = Counter("inferaudit_spec_draft_tokens", "Speculative draft tokens proposed", labels,
                                  registry=self.registry)
        self.spec_accepted = Counter("inferaudit_spec_accepted_tokens", "Speculative draft tokens accepted", labels,
                                     registry=self.registry)
        self.spec_steps = Counter("inferaudit_spec_steps", "Speculative verification steps", labels, registry=self.registry)
        self.budget_spent = Gauge("inferaudit_budget_spent_usd", "Spent this period, per budget",
                                  ("scope", "name", "period"), registry=self.registry)
        self.budget_limit = Gauge("inferaudit_budget_limit_usd", "Budget per period", ("scope", "name", "period"),
                                  registry=self.registry)
        self.upstream_errors = Counter("inferaudit_upstream_errors", "Upstream failures by kind",
                                       ("provider", "kind"), registry=self.registry)
        self._children: dict[tuple[int, tuple[str, ...]], object] = {}

    def observe(self, call: Call, cost: float | None) -> None:
        labels = (call.provider or "", call.model or "", call.feature or "")
        child = self._child
        child(self.requests, (*labels, call.status)).inc()
        tokens = call.tokens
        for bucket in BUCKETS:
            value = getattr(tokens, bucket)
            if value:
                child(self.tokens, (*labels, bucket)).inc(value)
        if cost:
            child(self.cost, labels).inc(cost)
        if call.started_at and call.ended_at:
            child(self.latency, labels).observe((call.ended_at - call.started_at).total_seconds())
        if call.started_at and call.first_token_at:
            child(self.ttft, labels).observe((call.first_token_at - call.started_at).total_seconds())
        if call.spec_draft_tokens:
            child(self.spec_draft, labels).inc(call.spec_draft_tokens)
            child(self.spec_accepted, labels).inc(call.spec_accepted_tokens or 0)
            child(self.spec_steps, labels).inc(call.spec_steps or 0)
        if call.status != "ok":
            child(self.upstream_errors, (call.provider or "", call.status)).inc()

    def _child(self, metric, values: tuple[str, ...]):
        """``metric.labels(*values)``, resolved once per series: labels() validates and locks on every call."""
        key = (id(metric), values)
        found = self._children.get(key)
        if found is None:
            found = self._children[key] = metric.labels(*values)
        return found

    def budgets(self, status: list[dict]) -> None:
        for b in status:
            self.budget_limit.labels(b["scope"], b["name"], b["period"]).set(b["limit_usd"])
            self.budget_spent.labels(b["scope"], b["name"], b["period"]).set(b["spent_usd"])

    def render(self) -> bytes:
        return generate_latest(self.registry)
