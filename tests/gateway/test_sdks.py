"""The official SDKs through the gateway to the emulated upstream: exact ledger rows, faithful answers."""

from __future__ import annotations

import json

import urllib.error
import urllib.request

import anthropic
import openai
import pytest

from inferaudit.ledger import Ledger
from inferaudit.usage import BUCKETS, Tokens


TOOLS_OPENAI = [{"type": "function", "function": {"name": "get_weather", "description": "Weather in a city",
                 "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]
TOOLS_ANTHROPIC = [{"name": "get_weather", "description": "Weather in a city",
                    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}]


class _Reply:
    def __init__(self, status: int, body: bytes):
        self.status_code, self.text = status, body.decode()

    def json(self):
        return json.loads(self.text)


def http(method: str, url: str, body: bytes | None = None, headers: dict | None = None) -> _Reply:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return _Reply(response.status, response.read())
    except urllib.error.HTTPError as exc:
        return _Reply(exc.code, exc.read())


def tokens_of(row) -> Tokens:
    return Tokens(*(row[b] for b in BUCKETS))


def last_upstream(emulator):
    return emulator.requests[-1]


def openai_client(gateway, **headers):
    return openai.OpenAI(base_url=gateway.url + "/v1", api_key="client-key", max_retries=0, default_headers=headers)


def anthropic_client(gateway, **headers):
    return anthropic.Anthropic(base_url=gateway.url, api_key="client-key", max_retries=0, default_headers=headers)


def test_openai_chat_json_row_is_exact(gateway, emulator):
    client = openai_client(gateway, **{"x-emulator-usage": "input=300,cache_read=1792,output=40,reasoning=12"})
    reply = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    sent = last_upstream(emulator).usage
    assert reply.usage.prompt_tokens == 2092 and reply.usage.prompt_tokens_details.cached_tokens == 1792
    (row,) = gateway.rows()
    assert tokens_of(row) == sent == Tokens(input=300, cache_read=1792, output=40, reasoning=12)
    assert (row["status"], row["attempt"], row["model"], row["provider"]) == ("ok", 1, reply.model, "openai")
    assert row["harness"] == "openai-python"


def test_openai_chat_stream_without_usage_request_still_recorded(gateway, emulator):
    client = openai_client(gateway, **{"x-emulator-usage": "input=50,cache_read=0,output=9"})
    stream = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "stream"}],
                                            stream=True, tools=TOOLS_OPENAI)
    chunks = list(stream)
    assert chunks and all(c.usage is None for c in chunks)  # the client did not ask for usage: none shown
    upstream = last_upstream(emulator)
    assert upstream.body["stream_options"] == {"include_usage": True}  # but the gateway asked for it
    (row,) = gateway.rows()
    assert tokens_of(row) == upstream.usage
    assert row["tool_calls"] == upstream.tool_calls


def test_openai_chat_stream_with_usage_is_passed_through(gateway, emulator):
    client = openai_client(gateway, **{"x-emulator-usage": "input=10,cache_read=1024,output=7,reasoning=3"})
    chunks = list(client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "s"}],
                                                 stream=True, stream_options={"include_usage": True}))
    usage = chunks[-1].usage
    assert (usage.prompt_tokens, usage.completion_tokens) == (1034, 7)
    (row,) = gateway.rows()
    assert tokens_of(row) == Tokens(input=10, cache_read=1024, output=7, reasoning=3)


def test_openai_responses_stream(gateway, emulator):
    client = openai_client(gateway, **{"x-emulator-usage": "input=20,cache_read=2048,output=30,reasoning=25"})
    with client.responses.stream(model="gpt-5.3-codex", input="write a haiku") as stream:
        final = stream.get_final_response()
    assert final.usage.input_tokens_details.cached_tokens == 2048
    (row,) = gateway.rows()
    assert tokens_of(row) == Tokens(input=20, cache_read=2048, output=30, reasoning=25)
    assert row["cost_reported"] is None


def test_openai_cache_writes_are_their_own_bucket_in_chat_and_responses(gateway, emulator):
    """GPT-5.6 reports cache writes inside the prompt count; the row takes them out of ``input``."""
    client = openai_client(gateway, **{"x-emulator-usage": "input=200,cache_read=2048,cache_write_5m=400,output=30"})
    messages = [{"role": "user", "content": "hi"}]
    reply = client.chat.completions.create(model="gpt-5.6-terra", messages=messages)
    assert (reply.usage.prompt_tokens, reply.usage.prompt_tokens_details.cache_write_tokens) == (2648, 400)
    list(client.chat.completions.create(model="gpt-5.6-terra", messages=messages, stream=True))
    with client.responses.stream(model="gpt-5.6-terra", input="write a haiku") as stream:
        final = stream.get_final_response()
    assert final.usage.input_tokens_details.cache_write_tokens == 400
    rows = gateway.rows()
    assert [tokens_of(r) for r in rows] == [Tokens(input=200, cache_read=2048, cache_write_5m=400, output=30)] * 3


def test_anthropic_messages_json_and_stream_with_cache_writes(gateway, emulator):
    usage = "input=12,cache_read=5000,cache_write_5m=700,cache_write_1h=300,output=33"
    client = anthropic_client(gateway, **{"x-emulator-usage": usage})
    msg = client.messages.create(model="claude-haiku-4-5", max_tokens=100, tools=TOOLS_ANTHROPIC,
                                 messages=[{"role": "user", "content": "weather in Paris?"}])
    assert msg.usage.cache_creation_input_tokens == 1000
    with client.messages.stream(model="claude-haiku-4-5", max_tokens=100,
                                messages=[{"role": "user", "content": "again"}]) as stream:
        final = stream.get_final_message()
    assert final.usage.output_tokens == 33
    rows = gateway.rows()
    expected = Tokens(input=12, cache_read=5000, cache_write_5m=700, cache_write_1h=300, output=33)
    assert [tokens_of(r) for r in rows] == [expected, expected]
    assert rows[0]["tool_calls"] == sum(1 for b in msg.content if b.type == "tool_use")
    assert all(r["provider"] == "anthropic" and r["status"] == "ok" for r in rows)


def test_attribution_from_headers_and_body(gateway, emulator):
    client = openai_client(gateway, **{"X-Inferaudit-Feature": "search", "X-Inferaudit-Task": "t-42",
                                       "X-Inferaudit-Harness": "my-agent", "X-Inferaudit-Tags": "env=prod,team=core"})
    client.chat.completions.create(model="gpt-4o-mini", user="alice", messages=[{"role": "user", "content": "x"}])
    (row,) = gateway.rows()
    assert (row["user_id"], row["feature"], row["harness"], row["run_id"]) == ("alice", "search", "my-agent", "task:t-42")
    assert json.loads(row["tags"]) == {"env": "prod", "team": "core", "task": "t-42", "deployment_provider": "openai"}


def test_429_is_retried_and_every_attempt_is_a_row(gateway, emulator):
    emulator.enqueue_faults("429")
    client = openai_client(gateway)
    reply = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "retry"}])
    assert reply.choices[0].message.content
    rows = gateway.rows()
    assert [(r["attempt"], r["status"]) for r in rows] == [(1, "http_429"), (2, "ok")]
    assert tokens_of(rows[0]) == Tokens()


def test_mid_stream_failure_ends_with_the_protocols_error_event(gateway, emulator):
    client = anthropic_client(gateway, **{"x-emulator-fault": "reset-mid-stream"})
    with pytest.raises(anthropic.APIError):
        with client.messages.stream(model="claude-haiku-4-5", max_tokens=50,
                                    messages=[{"role": "user", "content": "boom"}]) as stream:
            for _ in stream:
                pass
    (row,) = gateway.rows()
    assert row["status"] == "midstream_error" and row["attempt"] == 1  # never retried once bytes flowed


def test_bad_requests_get_each_protocols_own_4xx(gateway):
    bad_json = http("POST", gateway.url + "/v1/chat/completions", b"{not json", {"content-type": "application/json"})
    assert bad_json.status_code == 400 and bad_json.json()["error"]["type"] == "invalid_request_error"
    anth = http("POST", gateway.url + "/v1/messages", b"[1]")
    assert anth.status_code == 400 and anth.json()["type"] == "error"
    no_model = http("POST", gateway.url + "/v1/messages", b'{"messages": []}')
    assert no_model.status_code == 400 and "model" in no_model.json()["error"]["message"]
    with pytest.raises(openai.BadRequestError):
        openai_client(gateway).chat.completions.create(model="gpt-4o-mini", messages="not a list")  # upstream's own 400
    assert gateway.rows()[-1]["status"] == "http_400"


def test_upstream_key_never_leaks(gateway, emulator, upstream_key):
    emulator.enqueue_faults("500", "500", "500")
    with pytest.raises(openai.InternalServerError) as info:
        openai_client(gateway).chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}])
    metrics = http("GET", gateway.url + "/metrics").text
    health = http("GET", gateway.url + "/healthz").text
    rows = gateway.rows()
    assert len(rows) == 3
    for text in (str(info.value.body), metrics, health, json.dumps(rows, default=str)):
        assert upstream_key not in text
    sent = {k.lower(): v for k, v in emulator.requests[-1].headers.items()}
    assert sent["authorization"] == "[redacted]"  # a key went upstream, and the emulator never shows it


def test_metrics_and_health(gateway, emulator):
    openai_client(gateway, **{"x-emulator-usage": "input=5,output=2"}).chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "m"}])
    text = http("GET", gateway.url + "/metrics").text
    assert 'inferaudit_tokens_total{bucket="input",feature="",model=' in text
    assert "inferaudit_request_seconds_bucket" in text
    assert http("GET", gateway.url + "/healthz").json()["status"] == "ok"


def test_count_tokens_forwarded_to_anthropic_and_refused_cleanly_elsewhere(gateway, tmp_path, config_for):
    client = anthropic_client(gateway)
    counted = client.messages.count_tokens(model="claude-haiku-4-5", messages=[{"role": "user", "content": "count me"}])
    assert counted.input_tokens > 0
    assert gateway.rows() == []  # counting is free: not a ledger row
    other = config_for(tmp_path / "o.duckdb", default_providers={"anthropic-messages": "openai"})
    from inferaudit.testing.gateway import GatewayThread

    with GatewayThread(other) as second:
        reply = http("POST", second.url + "/v1/messages/count_tokens", b'{"model": "m", "messages": []}')
    assert reply.status_code == 404 and reply.json()["type"] == "error" and "openai-chat" in reply.json()["error"]["message"]


def test_a_client_that_leaves_mid_stream_still_gets_its_call_recorded_exactly(gateway, emulator):
    """The gateway reads the upstream to its end, so the row holds what the upstream billed."""
    import http.client
    import time as _time
    from urllib.parse import urlparse

    url = urlparse(gateway.url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    body = json.dumps({"model": "gpt-4o-mini", "stream": True, "messages": [{"role": "user", "content": "slow"}]})
    conn.request("POST", "/v1/chat/completions", body=body,
                 headers={"content-type": "application/json", "x-emulator-fault": "pace:100"})
    response = conn.getresponse()
    assert response.status == 200
    response.read1(64)  # the first bytes arrive...
    conn.sock.close()  # ...and the client is gone
    conn.close()
    deadline = _time.time() + 10
    while emulator.requests[-1].outcome == "pending" and _time.time() < deadline:
        _time.sleep(0.05)
    (row,) = gateway.rows()
    assert row["status"] in ("ok", "client_disconnected")
    assert tokens_of(row) == emulator.requests[-1].usage  # every token the upstream sent, none lost


def test_virtual_keys_size_limit_and_unknown_models(emulator, tmp_path, config_for, monkeypatch):
    from inferaudit.testing.gateway import GatewayThread

    monkeypatch.setenv("TEAM_KEY", "sk-team-123")
    config = config_for(tmp_path / "k.duckdb", keys=[{"key_env": "TEAM_KEY", "user": "search-bot", "team": "search"}],
                        max_body_bytes=2000, models={"fast": [{"provider": "openai", "model": "gpt-4o-mini"}]},
                        default_providers={})
    with GatewayThread(config) as gw:
        with pytest.raises(openai.AuthenticationError):
            openai.OpenAI(base_url=gw.url + "/v1", api_key="wrong", max_retries=0).chat.completions.create(
                model="fast", messages=[{"role": "user", "content": "x"}])
        with pytest.raises(anthropic.AuthenticationError):
            anthropic.Anthropic(base_url=gw.url, api_key="wrong", max_retries=0).messages.create(
                model="fast", max_tokens=5, messages=[{"role": "user", "content": "x"}])
        good = openai.OpenAI(base_url=gw.url + "/v1", api_key="sk-team-123", max_retries=0)
        good.chat.completions.create(model="fast", messages=[{"role": "user", "content": "x"}])
        with pytest.raises(openai.NotFoundError):
            good.chat.completions.create(model="no-such-model", messages=[{"role": "user", "content": "x"}])
        with pytest.raises(openai.APIStatusError) as big:
            good.chat.completions.create(model="fast", messages=[{"role": "user", "content": "x" * 5000}])
        assert big.value.status_code == 413
    with Ledger(tmp_path / "k.duckdb", read_only=True) as opened:
        rows = opened.con.execute("SELECT user_id, json_extract_string(tags, '$.team') FROM calls").fetchall()
    assert rows == [("search-bot", "search")]  # only the authorised, routable, small request reached upstream
