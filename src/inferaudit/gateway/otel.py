"""OpenTelemetry GenAI spans, one per upstream attempt, when ``OTEL_EXPORTER_OTLP_*`` is set.

The OTel GenAI conventions count cache reads and writes *inside*
``gen_ai.usage.input_tokens``; the ledger keeps disjoint buckets. The
conversion happens here, on export, and nowhere else.

Needs the optional extra ``pip install inferaudit[otel]``; without it, or
without an endpoint in the environment, nothing is exported.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from ..usage import Call

log = logging.getLogger("inferaudit.gateway.otel")

ENDPOINT_VARS = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
OPERATION = "chat"


def span_attributes(call: Call, protocol: str | None = None) -> dict[str, Any]:
    """The GenAI attributes of one call, with input counted the OTel way (cache included)."""
    t = call.tokens
    attrs: dict[str, Any] = {
        "gen_ai.operation.name": OPERATION,
        "gen_ai.provider.name": call.provider or call.tags.get("deployment_provider", "unknown"),
        "gen_ai.request.model": call.tags.get("alias", call.model or ""),
        "gen_ai.response.model": call.model or "",
        "gen_ai.usage.input_tokens": t.input + t.cache_read + t.cache_write_5m + t.cache_write_1h,
        "gen_ai.usage.output_tokens": t.output,
        "gen_ai.usage.cache_read.input_tokens": t.cache_read,
        "gen_ai.usage.cache_creation.input_tokens": t.cache_write_5m + t.cache_write_1h,
        "inferaudit.call_id": call.call_id,
        "inferaudit.status": call.status,
        "inferaudit.attempt": call.attempt,
    }
    if t.reasoning:
        attrs["gen_ai.usage.reasoning.output_tokens"] = t.reasoning
    for key, value in (("user", call.user), ("feature", call.feature), ("harness", call.harness)):
        if value:
            attrs[f"inferaudit.{key}"] = value
    if protocol:
        attrs["inferaudit.protocol"] = protocol
    if call.status != "ok":
        attrs["error.type"] = call.status
    return attrs


class SpanExporter:
    """Turns finished Calls into spans; a no-op unless configured."""

    def __init__(self) -> None:
        self.tracer = None
        self.provider = None
        if not any(os.environ.get(v) for v in ENDPOINT_VARS):
            return
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
            from opentelemetry.sdk.resources import Resource
            from opentelemetry.sdk.trace import TracerProvider
            from opentelemetry.sdk.trace.export import BatchSpanProcessor
        except ImportError:
            log.warning("OTEL_EXPORTER_OTLP_* is set but opentelemetry is not installed: pip install inferaudit[otel]")
            return
        resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", "inferaudit-gateway")})
        self.provider = TracerProvider(resource=resource)
        self.provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        self.tracer = self.provider.get_tracer("inferaudit.gateway")

    def export(self, call: Call) -> None:
        if self.tracer is None or call.started_at is None:
            return
        from opentelemetry.trace import SpanKind, Status, StatusCode

        start = int(call.started_at.timestamp() * 1e9)
        end = int((call.ended_at or call.started_at).timestamp() * 1e9)
        span = self.tracer.start_span(f"{OPERATION} {call.model or ''}".strip(), kind=SpanKind.CLIENT,
                                      start_time=start, attributes=span_attributes(call))
        if call.status != "ok":
            span.set_status(Status(StatusCode.ERROR, call.status))
        span.end(end_time=end)

    def shutdown(self) -> None:
        if self.provider is not None:
            self.provider.shutdown()  # flushes what is queued
