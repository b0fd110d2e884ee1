"""OpenAI and Anthropic SDK clients on a Gemini upstream, through a real gateway to the loopback emulator's Gemini endpoint.

What the SDK sees (content, tool calls, usage converted exactly) and what the
ledger books (the emulator's Gemini usage mapped by Gemini's own rules:
input = prompt - cached + toolUsePrompt, cache_read = cached, output =
candidates + thoughts, reasoning = thoughts), with a tool round trip, streamed
and not; then failures: a cut stream, a Gemini error mid-stream, an HTTP
error, and a request Gemini cannot take.
"""

from __future__ import annotations

import json

import pytest

from inferaudit.providers.gemini import map_usage
from inferaudit.testing.gemini import usage_metadata
from inferaudit.usage import Tokens

from .conftest import translated_anthropic, translated_openai

anthropic = pytest.importorskip("anthropic")
openai = pytest.importorskip("openai")

EXPECTED = Tokens(input=300, cache_read=1792, output=40, reasoning=12)
MODEL = "gemini-2.5-flash"
WEATHER = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
OPENAI_TOOLS = [{"type": "function", "function": {"name": "get_weather", "description": "Weather in a city", "parameters": WEATHER}}]
ANTHROPIC_TOOLS = [{"name": "get_weather", "description": "Weather in a city", "input_schema": WEATHER}]
LONG = " ".join(f"word{i}" for i in range(24))  # six Gemini chunks of four pieces: room for a fault half way


@pytest.fixture
def gateway(translated_gateway):
    """(running gateway, emulator); the emulator checks x-goog-api-key, as Google does; ``running.rows()`` returns the ledger's calls."""
    return translated_gateway("gemini", "gk-upstream", "gemini-alias", MODEL, LONG)


openai_client, anthropic_client = translated_openai, translated_anthropic


def gemini_rule(record) -> Tokens:
    """The emulator's answer's usageMetadata, mapped to buckets by the Gemini rules (the ledger's reader)."""
    sent = record.usage
    return map_usage(usage_metadata(sent, sent.output - sent.reasoning))


def assert_upstream_call(record, streamed: bool) -> None:
    method = "streamGenerateContent" if streamed else "generateContent"
    assert (record.path, record.query, record.status) == (f"/v1beta/models/{MODEL}:{method}", "alt=sse" if streamed else "", 200)
    assert record.headers.get("x-goog-api-key") == "[redacted]" and "authorization" not in {k.lower() for k in record.headers}
    assert "model" not in record.body and "stream" not in record.body


def chat_turn(client, streamed: bool, messages: list, **kwargs):
    if streamed:
        with client.chat.completions.stream(model="gemini-alias", messages=messages, stream_options={"include_usage": True},
                                            **kwargs) as stream:
            return stream.get_final_completion()
    return client.chat.completions.create(model="gemini-alias", messages=messages, **kwargs)


@pytest.mark.parametrize("streamed", [False, True], ids=["json", "stream"])
def test_openai_sdk_tool_round_trip_on_gemini(gateway, streamed, request):
    running, emulator = gateway
    client = openai_client(running.url)
    request.addfinalizer(client.close)
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Weather in Paris?"}]
    first = chat_turn(client, streamed, messages, tools=OPENAI_TOOLS)
    asked = emulator.requests[-1]
    assert_upstream_call(asked, streamed)
    assert asked.body["systemInstruction"] == {"parts": [{"text": "Be brief."}]}
    assert asked.body["tools"][0]["functionDeclarations"][0]["parametersJsonSchema"] == WEATHER
    choice = first.choices[0]
    (call,) = choice.message.tool_calls
    assert (choice.finish_reason, call.function.name, set(json.loads(call.function.arguments))) == ("tool_calls", "get_weather", {"city"})
    usage = first.usage  # Gemini: prompt 2092 with 1792 cached; candidates 28 + thoughts 12
    assert (usage.prompt_tokens, usage.prompt_tokens_details.cached_tokens, usage.completion_tokens) == (2092, 1792, 40)
    assert (usage.completion_tokens_details.reasoning_tokens, usage.total_tokens) == (12, 2132)

    messages += [{"role": "assistant", "content": None, "tool_calls": [
                     {"id": call.id, "type": "function", "function": {"name": "get_weather", "arguments": call.function.arguments}}]},
                 {"role": "tool", "tool_call_id": call.id, "content": "18C and sunny"}]
    second = chat_turn(client, streamed, messages, tools=OPENAI_TOOLS)
    answered = emulator.requests[-1]
    assert answered.body["contents"][-1] == {"role": "user", "parts": [
        {"functionResponse": {"name": "get_weather", "response": {"output": "18C and sunny"}}}]}
    assert second.choices[0].finish_reason == "stop" and second.choices[0].message.content
    assert not second.choices[0].message.tool_calls
    assert second.usage.prompt_tokens == 2092

    rows = running.rows()
    assert [r["tokens"] for r in rows] == [gemini_rule(asked), gemini_rule(answered)] == [EXPECTED, EXPECTED]
    assert [(r["status"], r["model"], r["tool_calls"]) for r in rows] == [("ok", MODEL, 1), ("ok", MODEL, 0)]


@pytest.mark.parametrize("streamed", [False, True], ids=["json", "stream"])
def test_anthropic_sdk_tool_round_trip_on_gemini_through_the_chat_hub(gateway, streamed, request):
    running, emulator = gateway
    client = anthropic_client(running.url)
    request.addfinalizer(client.close)

    def turn(messages):
        kwargs = {"model": "gemini-alias", "max_tokens": 500, "system": "Be brief.", "tools": ANTHROPIC_TOOLS, "messages": messages}
        if streamed:
            with client.messages.stream(**kwargs) as stream:
                return stream.get_final_message()
        return client.messages.create(**kwargs)

    messages = [{"role": "user", "content": "Weather in Paris?"}]
    first = turn(messages)
    asked = emulator.requests[-1]
    assert_upstream_call(asked, streamed)
    (call,) = first.content
    assert (first.stop_reason, call.type, call.name, set(call.input)) == ("tool_use", "tool_use", "get_weather", {"city"})
    # Anthropic's convention: input excludes the cached prompt tokens
    assert (first.usage.input_tokens, first.usage.cache_read_input_tokens, first.usage.cache_creation_input_tokens,
            first.usage.output_tokens) == (300, 1792, 0, 40)

    messages += [{"role": "assistant", "content": [call.model_dump(include={"type", "id", "name", "input"})]},
                 {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "18C and sunny"}]}]
    second = turn(messages)
    answered = emulator.requests[-1]
    assert answered.body["contents"][-1]["parts"] == [
        {"functionResponse": {"name": "get_weather", "response": {"output": "18C and sunny"}}}]
    assert second.stop_reason == "end_turn" and second.content[0].type == "text" and second.content[0].text

    rows = running.rows()
    assert [r["tokens"] for r in rows] == [gemini_rule(asked), gemini_rule(answered)] == [EXPECTED, EXPECTED]
    assert [r["status"] for r in rows] == ["ok", "ok"]


@pytest.mark.parametrize("fault, message, status", [
    ("reset-mid-stream", "upstream stream failed", "midstream_error"),
    ("error-mid-stream", "An internal error has occurred", "upstream_error_event"),
    ("truncated-json", "ended before it finished", "incomplete_stream"),
])
def test_a_broken_gemini_stream_is_the_openai_clients_error(gateway, fault, message, status):
    running, emulator = gateway
    with openai_client(running.url, **{"x-emulator-fault": fault, "x-emulator-scenario": "long"}) as client:
        seen = []
        with pytest.raises(openai.APIError, match=message):
            for chunk in client.chat.completions.create(model="gemini-alias", stream=True,
                                                        messages=[{"role": "user", "content": "talk"}]):
                seen.extend(c.delta.content for c in chunk.choices if c.delta.content)
    assert "".join(seen) and LONG.startswith("".join(seen))  # what came before the break, and nothing made up
    assert emulator.requests[-1].outcome == fault.replace("-json", "")
    (row,) = running.rows()
    assert row["status"] == status


@pytest.mark.parametrize("fault, message", [("error-mid-stream", "An internal error has occurred"),
                                            ("truncated-json", "ended before it finished")])
def test_a_broken_gemini_stream_is_the_anthropic_clients_error(gateway, fault, message):
    running, _ = gateway
    with anthropic_client(running.url, **{"x-emulator-fault": fault, "x-emulator-scenario": "long"}) as client:
        with pytest.raises(anthropic.APIError, match=message), client.messages.stream(
                model="gemini-alias", max_tokens=100, messages=[{"role": "user", "content": "talk"}]) as stream:
            stream.get_final_message()


def test_a_gemini_http_error_is_each_clients_own_error(gateway):
    running, _ = gateway
    with openai_client(running.url, **{"x-emulator-fault": "429"}) as client:
        with pytest.raises(openai.RateLimitError, match="Resource has been exhausted"):
            client.chat.completions.create(model="gemini-alias", messages=[{"role": "user", "content": "hi"}])
    with anthropic_client(running.url, **{"x-emulator-fault": "503"}) as client:
        with pytest.raises(anthropic.InternalServerError, match="The model is overloaded"):
            client.messages.create(model="gemini-alias", max_tokens=10, messages=[{"role": "user", "content": "hi"}])
    assert [r["status"] for r in running.rows()] == ["http_429", "http_503"]


def test_a_request_gemini_cannot_take_is_the_clients_400_and_never_reaches_it(gateway):
    running, emulator = gateway
    with openai_client(running.url) as client:
        with pytest.raises(openai.BadRequestError, match="logit_bias"):
            client.chat.completions.create(model="gemini-alias", logit_bias={"50256": -100},
                                           messages=[{"role": "user", "content": "hi"}])
    with anthropic_client(running.url) as client:
        with pytest.raises(anthropic.BadRequestError, match="data: URLs"):
            client.messages.create(model="gemini-alias", max_tokens=10, messages=[{"role": "user", "content": [
                {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.png"}}]}])
    assert emulator.count == 0
    assert running.rows() == []  # no upstream call, nothing billed
