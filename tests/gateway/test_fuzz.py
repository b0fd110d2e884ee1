"""A fuzz run of the ingress endpoints: whatever a client sends, no 5xx of the gateway's own and no crash.

Bodies are drawn by hypothesis: arbitrary JSON (objects, arrays, scalars),
requests shaped like each protocol's with odd values in every field, and
raw bytes that are not JSON at all. Every answer must be the protocol's own
error shape when it is an error, and the gateway must still answer
``/healthz`` afterwards. A 502/504 would only be acceptable from a broken
upstream; the emulator answers every request, so any 5xx here is ours.
"""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlparse

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from inferaudit.testing.gateway import GatewayThread  # noqa: E402

ENDPOINTS = ["/v1/chat/completions", "/v1/responses", "/v1/messages", "/v1/messages/count_tokens"]
scalars = st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False) | st.text(max_size=30)
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
                           max_leaves=12)
models = st.sampled_from(["gpt-4o-mini", "claude-haiku-4-5", "no-such-model", "", "x" * 300]) | json_values
messages = st.lists(st.fixed_dictionaries({"role": st.sampled_from(["user", "assistant", "system", "tool", "bogus"]) | json_values,
                                           "content": st.text(max_size=40) | json_values}), max_size=3) | json_values
shaped = st.fixed_dictionaries(
    {"model": models, "messages": messages},
    optional={"stream": st.booleans() | json_values, "max_tokens": st.integers(-5, 10**6) | json_values,
              "input": st.text(max_size=40) | json_values, "tools": json_values, "stream_options": json_values,
              "temperature": json_values, "metadata": json_values, "user": json_values},
)
bodies = shaped.map(lambda b: json.dumps(b).encode()) | json_values.map(lambda v: json.dumps(v).encode()) \
    | st.binary(max_size=200)


def _post(url: str, path: str, body: bytes) -> tuple[int, bytes, str]:
    parsed = urlparse(url)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
    try:
        conn.request("POST", path, body=body, headers={"content-type": "application/json",
                                                       "anthropic-version": "2023-06-01"})
        response = conn.getresponse()
        return response.status, response.read(), response.getheader("content-type") or ""
    finally:
        conn.close()


def test_ingress_fuzz_finds_no_5xx_and_no_crash(emulator, config_for, tmp_path):
    with GatewayThread(config_for(tmp_path / "fuzz.duckdb", max_body_bytes=4096)) as gateway:
        seen: dict[int, int] = {}

        @settings(max_examples=400, deadline=None, derandomize=True,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
        @given(path=st.sampled_from(ENDPOINTS), body=bodies)
        def probe(path, body):
            status, raw, content_type = _post(gateway.url, path, body)
            seen[status] = seen.get(status, 0) + 1
            assert status < 500, f"{status} for {path} {body[:200]!r}: {raw[:300]!r}"
            if status >= 400 and "json" in content_type:
                error = json.loads(raw)
                if path.startswith("/v1/messages"):
                    assert error.get("type") == "error" and error["error"].get("message"), raw
                else:
                    assert isinstance(error.get("error"), dict) and error["error"].get("message"), raw

        probe()
        status, _, _ = _post(gateway.url, "/v1/chat/completions", b"{}")
        assert status == 400
        health = http.client.HTTPConnection(urlparse(gateway.url).hostname, urlparse(gateway.url).port, timeout=10)
        health.request("GET", "/healthz")
        assert health.getresponse().status == 200
    assert sum(seen.values()) >= 400 and any(s == 200 for s in seen), seen  # some bodies were good enough to serve
