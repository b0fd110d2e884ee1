"""OpenTelemetry GenAI spans exported over OTLP/HTTP to a real loopback receiver, cache counted the OTel way."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import openai
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from inferaudit.testing.gateway import GatewayThread


class Receiver(BaseHTTPRequestHandler):
    received: list[bytes] = []

    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers["content-length"]))
        Receiver.received.append((self.path, body))
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_spans_carry_genai_usage_with_cache_inside_input(emulator, tmp_path, monkeypatch, config_for):
    server = HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://127.0.0.1:{server.server_port}")
    Receiver.received.clear()
    try:
        with GatewayThread(config_for(tmp_path / "l.duckdb")) as gateway:
            client = openai.OpenAI(base_url=gateway.url + "/v1", api_key="x", max_retries=0,
                                   default_headers={"x-emulator-usage": "input=100,cache_read=1024,output=20,reasoning=5",
                                                    "x-inferaudit-feature": "otel"})
            client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "span"}])
    finally:
        server.shutdown()
    assert Receiver.received and Receiver.received[0][0] == "/v1/traces"
    request = ExportTraceServiceRequest.FromString(Receiver.received[0][1])
    spans = [s for rs in request.resource_spans for ss in rs.scope_spans for s in ss.spans]
    (span,) = spans
    attrs = {a.key: (a.value.int_value or a.value.string_value) for a in span.attributes}
    assert span.name == "chat gpt-4o-mini"
    assert attrs["gen_ai.usage.input_tokens"] == 1124  # OTel counts cache reads inside input
    assert attrs["gen_ai.usage.cache_read.input_tokens"] == 1024
    assert attrs["gen_ai.usage.output_tokens"] == 20 and attrs["gen_ai.usage.reasoning.output_tokens"] == 5
    assert attrs["gen_ai.provider.name"] == "openai" and attrs["inferaudit.feature"] == "otel"
