"""The gateway translates when client and upstream speak different protocols: SDK answers and exact ledger rows."""

from __future__ import annotations

import json

import pytest

from inferaudit.gateway import GatewayConfig
from inferaudit.ledger import Ledger
from inferaudit.usage import BUCKETS, Tokens

anthropic = pytest.importorskip("anthropic")
openai = pytest.importorskip("openai")

USAGE = "input=300,cache_read=1792,cache_write_5m=64,output=40"


def anthropic_client(url: str, usage: str):
    """Sending ``x-api-key`` as Claude Code does (this anthropic SDK itself sends a Bearer token)."""
    return anthropic.Anthropic(base_url=url, api_key=None, auth_token=None, max_retries=0,
                               default_headers={"x-api-key": "client", "x-emulator-usage": usage})


TOOL = {"name": "get_weather", "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}


@pytest.fixture
def gateway(tmp_path):
    """(running gateway, emulator); ``running.rows()`` stops the gateway, flushing the ledger, and returns its buckets."""
    from inferaudit.testing import EmulatorThread
    from inferaudit.testing.gateway import GatewayThread

    ledger = tmp_path / "translate.duckdb"
    with EmulatorThread() as emulator:  # it checks auth: "local" has no key, so the client's goes up as a Bearer token
        forward = ["x-emulator-usage", "x-emulator-fault"]
        config = GatewayConfig.from_dict({
            "ledger": str(ledger), "ledger_flush_s": 0.05, "retry": {"attempts": 1},
            "providers": {"local": {"base_url": emulator.url, "protocol": "openai-chat", "forward_headers": forward},
                          "claude": {"base_url": emulator.url, "protocol": "anthropic-messages", "api_key": "k",
                                     "forward_headers": forward}},
            "models": {"qwen3-coder": [{"provider": "local"}], "claude-haiku-4-5": [{"provider": "claude"}]},
        })

        class Running(GatewayThread):
            def rows(self) -> list[Tokens]:
                self.__exit__(None, None, None)
                with Ledger(ledger, read_only=True) as opened:
                    found = opened.con.execute(f"SELECT {', '.join(BUCKETS)}, status FROM calls ORDER BY started_at").fetchall()
                return [(Tokens(*row[:-1]), row[-1]) for row in found]

        with Running(config) as running:
            yield running, emulator


@pytest.mark.parametrize("streamed", [False, True], ids=["json", "stream"])
def test_anthropic_client_on_an_openai_upstream_through_the_gateway(gateway, streamed, request):
    running, emulator = gateway
    client = anthropic_client(running.url, USAGE)
    request.addfinalizer(client.close)
    kwargs = {"model": "qwen3-coder", "max_tokens": 100, "tools": [TOOL], "messages": [{"role": "user", "content": "Paris?"}]}
    if streamed:
        with client.messages.stream(**kwargs) as stream:
            message = stream.get_final_message()
    else:
        message = client.messages.create(**kwargs)
    record = emulator.requests[-1]
    assert record.path == "/v1/chat/completions" and record.status == 200
    assert message.stop_reason == "tool_use" and [b.type for b in message.content] == ["tool_use"]
    assert (message.usage.input_tokens, message.usage.cache_read_input_tokens, message.usage.cache_creation_input_tokens) == (300, 1792, 64)


@pytest.mark.parametrize("streamed", [False, True], ids=["json", "stream"])
def test_openai_client_on_an_anthropic_upstream_through_the_gateway(gateway, streamed, request):
    running, emulator = gateway
    client = openai.OpenAI(base_url=running.url + "/v1", api_key="client", max_retries=0, default_headers={"x-emulator-usage": USAGE})
    request.addfinalizer(client.close)
    kwargs = {"model": "claude-haiku-4-5", "messages": [{"role": "user", "content": "Paris?"}],
              "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": TOOL["input_schema"]}}]}
    if streamed:
        with client.chat.completions.stream(**kwargs, stream_options={"include_usage": True}) as stream:
            completion = stream.get_final_completion()
    else:
        completion = client.chat.completions.create(**kwargs)
    assert emulator.requests[-1].path == "/v1/messages"
    (call,) = completion.choices[0].message.tool_calls
    assert call.function.name == "get_weather" and set(json.loads(call.function.arguments)) == {"city"}
    assert (completion.usage.prompt_tokens, completion.usage.prompt_tokens_details.cached_tokens) == (2156, 1792)


def test_the_ledger_books_the_upstreams_buckets_whatever_the_client_saw(gateway):
    running, emulator = gateway
    usage = {"x-emulator-usage": "input=300,cache_read=1792,output=40"}
    with anthropic_client(running.url, usage["x-emulator-usage"]) as client:
        client.messages.create(model="qwen3-coder", max_tokens=50, messages=[{"role": "user", "content": "hi"}])
    with openai.OpenAI(base_url=running.url + "/v1", api_key="client", max_retries=0, default_headers=usage) as client:
        client.chat.completions.create(model="claude-haiku-4-5", messages=[{"role": "user", "content": "hi"}])
    # each upstream was spoken to in its own protocol, and read back in it for the ledger
    assert [r.path for r in emulator.requests] == ["/v1/chat/completions", "/v1/messages"]
    expected = (Tokens(input=300, cache_read=1792, output=40), "ok")
    assert running.rows() == [expected, expected]
