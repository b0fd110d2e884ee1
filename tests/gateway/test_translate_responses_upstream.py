"""OpenAI and Anthropic SDK clients on a Responses-only upstream, through a real gateway to the loopback emulator's ``/v1/responses``.

The case: a model OpenAI serves only on ``/v1/responses`` (o3-pro, the codex models) behind an
app that speaks Chat Completions (or Claude Code, through the chat hub). What the SDK sees
(content, tool calls, usage converted exactly) and what the ledger books (the emulator's
Responses usage mapped by the Responses rules: input = input_tokens - cached, cache_read =
cached, output = output_tokens, reasoning = reasoning_tokens), with a tool round trip, streamed
and not; then failures: a broken stream, an HTTP error, and a request Responses cannot take.
"""

from __future__ import annotations

import json

import pytest

from inferaudit.providers.openai_responses import map_usage
from inferaudit.testing.openai_responses import responses_usage
from inferaudit.usage import Tokens

from .conftest import translated_anthropic, translated_openai

anthropic = pytest.importorskip("anthropic")
openai = pytest.importorskip("openai")

EXPECTED = Tokens(input=300, cache_read=1792, output=40, reasoning=12)
MODEL = "gpt-5.1-codex-max"
WEATHER = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
OPENAI_TOOLS = [{"type": "function", "function": {"name": "get_weather", "description": "Weather in a city", "parameters": WEATHER}}]
ANTHROPIC_TOOLS = [{"name": "get_weather", "description": "Weather in a city", "input_schema": WEATHER}]
LONG = " ".join(f"word{i}" for i in range(24))  # 24 text deltas: room for a fault half way


@pytest.fixture
def gateway(translated_gateway):
    """(running gateway, emulator); the emulator checks the bearer key, as OpenAI does; ``running.rows()`` returns the ledger's calls."""
    return translated_gateway("openai-responses", "sk-upstream", "codex-alias", MODEL, LONG)


openai_client, anthropic_client = translated_openai, translated_anthropic


def responses_rule(record) -> Tokens:
    """The emulator's answer's Responses usage, mapped to buckets by the Responses rules (the ledger's reader)."""
    return map_usage(responses_usage(record.usage))


def assert_upstream_call(record, streamed: bool) -> None:
    assert (record.path, record.query, record.status, record.protocol) == ("/v1/responses", "", 200, "openai-responses")
    assert {k.lower(): v for k, v in record.headers.items()}.get("authorization") == "[redacted]"
    assert record.body["model"] == MODEL and record.body["store"] is False
    assert record.body.get("stream", False) is streamed and "stream_options" not in record.body
    assert "messages" not in record.body


def chat_turn(client, streamed: bool, messages: list, **kwargs) -> dict:
    """One ``chat.completions.create`` call, streamed or not, as what the SDK handed the app."""
    if not streamed:
        completion = client.chat.completions.create(model="codex-alias", messages=messages, **kwargs)
        choice = completion.choices[0]
        calls = [(c.id, c.function.name, c.function.arguments) for c in choice.message.tool_calls or []]
        return {"content": choice.message.content, "calls": calls, "finish": choice.finish_reason, "usage": completion.usage}
    content, calls, finish, usage = [], {}, None, None
    for chunk in client.chat.completions.create(model="codex-alias", messages=messages, stream=True,
                                                stream_options={"include_usage": True}, **kwargs):
        usage = chunk.usage or usage
        for choice in chunk.choices:
            content.append(choice.delta.content or "")
            for call in choice.delta.tool_calls or []:
                seen = calls.setdefault(call.index, ["", "", ""])
                seen[0] += call.id or ""
                seen[1] += (call.function.name or "") if call.function else ""
                seen[2] += (call.function.arguments or "") if call.function else ""
            finish = choice.finish_reason or finish
    return {"content": "".join(content) or None, "calls": [tuple(calls[i]) for i in sorted(calls)], "finish": finish,
            "usage": usage}


@pytest.mark.parametrize("streamed", [False, True], ids=["json", "stream"])
def test_openai_sdk_tool_round_trip_on_a_responses_upstream(gateway, streamed, request):
    running, emulator = gateway
    client = openai_client(running.url)
    request.addfinalizer(client.close)
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Weather in Paris?"}]
    first = chat_turn(client, streamed, messages, tools=OPENAI_TOOLS, max_completion_tokens=2000)
    asked = emulator.requests[-1]
    assert_upstream_call(asked, streamed)
    assert asked.body["instructions"] == "Be brief." and asked.body["max_output_tokens"] == 2000
    assert asked.body["input"] == [{"type": "message", "role": "user", "content": "Weather in Paris?"}]
    assert asked.body["tools"] == [{"type": "function", "name": "get_weather", "description": "Weather in a city",
                                    "parameters": WEATHER, "strict": False}]
    ((call_id, name, arguments),) = first["calls"]
    assert call_id.startswith("call_") and (first["finish"], name, set(json.loads(arguments))) == ("tool_calls", "get_weather", {"city"})
    usage = first["usage"]  # Responses: input 2092 with 1792 cached; output 40 with 12 reasoning
    assert (usage.prompt_tokens, usage.prompt_tokens_details.cached_tokens, usage.completion_tokens) == (2092, 1792, 40)
    assert (usage.completion_tokens_details.reasoning_tokens, usage.total_tokens) == (12, 2132)

    messages += [{"role": "assistant", "content": None, "tool_calls": [
                     {"id": call_id, "type": "function", "function": {"name": "get_weather", "arguments": arguments}}]},
                 {"role": "tool", "tool_call_id": call_id, "content": "18C and sunny"}]
    second = chat_turn(client, streamed, messages, tools=OPENAI_TOOLS)
    answered = emulator.requests[-1]
    assert answered.body["input"][-2:] == [
        {"type": "function_call", "call_id": call_id, "name": "get_weather", "arguments": arguments},
        {"type": "function_call_output", "call_id": call_id, "output": "18C and sunny"}]
    assert second["finish"] == "stop" and second["content"] and not second["calls"]
    assert second["usage"].prompt_tokens == 2092

    rows = running.rows()
    assert [r["tokens"] for r in rows] == [responses_rule(asked), responses_rule(answered)] == [EXPECTED, EXPECTED]
    assert [(r["status"], r["model"], r["tool_calls"]) for r in rows] == [("ok", MODEL, 1), ("ok", MODEL, 0)]


@pytest.mark.parametrize("streamed", [False, True], ids=["json", "stream"])
def test_anthropic_sdk_tool_round_trip_on_a_responses_upstream_through_the_chat_hub(gateway, streamed, request):
    running, emulator = gateway
    client = anthropic_client(running.url)
    request.addfinalizer(client.close)

    def turn(messages):
        kwargs = {"model": "codex-alias", "max_tokens": 500, "system": "Be brief.", "tools": ANTHROPIC_TOOLS, "messages": messages}
        if streamed:
            with client.messages.stream(**kwargs) as stream:
                return stream.get_final_message()
        return client.messages.create(**kwargs)

    messages = [{"role": "user", "content": "Weather in Paris?"}]
    first = turn(messages)
    asked = emulator.requests[-1]
    assert_upstream_call(asked, streamed)
    assert asked.body["instructions"] == "Be brief." and asked.body["max_output_tokens"] == 500
    (call,) = first.content
    assert (first.stop_reason, call.type, call.name, set(call.input)) == ("tool_use", "tool_use", "get_weather", {"city"})
    assert call.id.startswith("call_")  # the Responses call_id, carried through both legs
    # Anthropic's convention: input excludes the cached prompt tokens
    assert (first.usage.input_tokens, first.usage.cache_read_input_tokens, first.usage.cache_creation_input_tokens,
            first.usage.output_tokens) == (300, 1792, 0, 40)

    messages += [{"role": "assistant", "content": [call.model_dump(include={"type", "id", "name", "input"})]},
                 {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "18C and sunny"}]}]
    second = turn(messages)
    answered = emulator.requests[-1]
    assert answered.body["input"][-1] == {"type": "function_call_output", "call_id": call.id, "output": "18C and sunny"}
    assert answered.body["input"][-2]["call_id"] == call.id
    assert second.stop_reason == "end_turn" and second.content[0].type == "text" and second.content[0].text

    rows = running.rows()
    assert [r["tokens"] for r in rows] == [responses_rule(asked), responses_rule(answered)] == [EXPECTED, EXPECTED]
    assert [r["status"] for r in rows] == ["ok", "ok"]


@pytest.mark.parametrize("fault, message, status", [
    ("reset-mid-stream", "upstream stream failed", "midstream_error"),
    ("error-mid-stream", "The server had an error", "upstream_error_event"),
    ("truncated-json", "ended before it finished", "incomplete_stream"),
])
def test_a_broken_responses_stream_is_the_openai_clients_error(gateway, fault, message, status):
    running, emulator = gateway
    with openai_client(running.url, **{"x-emulator-fault": fault, "x-emulator-scenario": "long"}) as client:
        seen = []
        with pytest.raises(openai.APIError, match=message):
            for chunk in client.chat.completions.create(model="codex-alias", stream=True,
                                                        messages=[{"role": "user", "content": "talk"}]):
                seen.extend(c.delta.content for c in chunk.choices if c.delta.content)
                assert all(c.finish_reason is None for c in chunk.choices)  # never a finish the client would trust
    assert "".join(seen) and LONG.startswith("".join(seen))  # what came before the break, and nothing made up
    assert emulator.requests[-1].outcome == fault.replace("-json", "")
    (row,) = running.rows()
    assert row["status"] == status


def test_a_broken_responses_stream_is_the_anthropic_clients_error(gateway):
    running, _ = gateway
    headers = {"x-emulator-fault": "error-mid-stream", "x-emulator-scenario": "long"}
    with anthropic_client(running.url, **headers) as client, pytest.raises(anthropic.APIError, match="The server had an error"), \
            client.messages.stream(model="codex-alias", max_tokens=100, messages=[{"role": "user", "content": "talk"}]) as stream:
        stream.get_final_message()


def test_a_responses_http_error_is_each_clients_own_error(gateway):
    running, _ = gateway
    with openai_client(running.url, **{"x-emulator-fault": "429"}) as client, \
            pytest.raises(openai.RateLimitError, match="Rate limit reached"):
        client.chat.completions.create(model="codex-alias", messages=[{"role": "user", "content": "hi"}])
    with anthropic_client(running.url, **{"x-emulator-fault": "503"}) as client, \
            pytest.raises(anthropic.InternalServerError, match="overloaded or not ready"):
        client.messages.create(model="codex-alias", max_tokens=100, messages=[{"role": "user", "content": "hi"}])
    assert [r["status"] for r in running.rows()] == ["http_429", "http_503"]


def test_a_request_responses_cannot_take_is_the_clients_400_and_never_reaches_it(gateway):
    running, emulator = gateway
    with openai_client(running.url) as client:
        with pytest.raises(openai.BadRequestError, match="stop: Responses has no stop sequences"):
            client.chat.completions.create(model="codex-alias", stop=["\n\nUser:"], messages=[{"role": "user", "content": "hi"}])
        with pytest.raises(openai.BadRequestError, match="n: Responses answers with one choice"):
            client.chat.completions.create(model="codex-alias", n=2, messages=[{"role": "user", "content": "hi"}])
    with anthropic_client(running.url) as client, \
            pytest.raises(anthropic.BadRequestError, match="stop: Responses has no stop sequences"):
        client.messages.create(model="codex-alias", max_tokens=100, stop_sequences=["END"],
                               messages=[{"role": "user", "content": "hi"}])
    assert emulator.count == 0
    assert running.rows() == []  # no upstream call, nothing billed
