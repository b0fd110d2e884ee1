"""Official SDK -> translator -> the loopback upstream emulator -> translator -> the SDK, both directions.

The bridge below does what the gateway's relay will do with a translator
(request, upstream path, JSON or SSE answer, error bodies), so these tests
show the round trip with the emulator's exact usage buckets, streamed and not.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from inferaudit.providers import PROTOCOLS, SSEParser
from inferaudit.translate import get
from inferaudit.usage import Tokens

httpx = pytest.importorskip("httpx2")
anthropic = pytest.importorskip("anthropic")
openai = pytest.importorskip("openai")

UPSTREAM_AUTH = {
    "openai-chat": {"authorization": "Bearer upstream-key"},
    "anthropic-messages": {"x-api-key": "upstream-key", "anthropic-version": "2023-06-01"},
}
WEATHER_ANTHROPIC = [{"name": "get_weather", "description": "Weather in a city",
                      "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}]
WEATHER_OPENAI = [{"type": "function", "function": {"name": "get_weather", "description": "Weather in a city",
                                                    "parameters": WEATHER_ANTHROPIC[0]["input_schema"]}}]


@pytest.fixture(scope="module")
def emulator():
    from inferaudit.testing import EmulatorThread

    with EmulatorThread() as emu:
        yield emu


def bridge(translator, emu) -> httpx.Client:
    """An HTTP client for an SDK whose every request is translated, sent to the emulator, and answered back."""

    def handler(request):
        body = json.loads(request.content)
        headers = {"content-type": "application/json", **UPSTREAM_AUTH[translator.target]}
        headers.update({k: v for k, v in request.headers.items() if k.startswith("x-emulator-")})
        upstream = urllib.request.Request(emu.url + translator.upstream_path(body["model"], body.get("stream") is True), method="POST", headers=headers,
                                          data=json.dumps(translator.request(body)).encode())
        try:
            with urllib.request.urlopen(upstream, timeout=30) as response:
                data, kind = response.read(), response.headers.get("content-type", "")
        except urllib.error.HTTPError as exc:
            answer = translator.error_body(exc.code, exc.read())
            return httpx.Response(exc.code, json=answer)
        if "text/event-stream" not in kind:
            return httpx.Response(200, json=translator.response(json.loads(data), body))
        stream, parser = translator.stream(body), SSEParser()
        out = [stream.feed(event) for piece in (data[i : i + 5] for i in range(0, len(data), 5)) for event in parser.feed(piece)]
        out += [stream.feed(event) for event in parser.flush()] + [stream.close()]
        return httpx.Response(200, content=b"".join(out), headers={"content-type": "text/event-stream"})

    return httpx.Client(transport=httpx.MockTransport(handler))


def anthropic_client(emu, usage: str):
    return anthropic.Anthropic(api_key="client-key", base_url="http://gateway.test", max_retries=0,
                               http_client=bridge(get("anthropic-messages", "openai-chat"), emu),
                               default_headers={"x-emulator-usage": usage})


def openai_client(emu, usage: str):
    return openai.OpenAI(api_key="client-key", base_url="http://gateway.test/v1", max_retries=0,
                         http_client=bridge(get("openai-chat", "anthropic-messages"), emu),
                         default_headers={"x-emulator-usage": usage})


@pytest.mark.parametrize("streamed", [False, True], ids=["json", "stream"])
def test_claude_code_request_on_an_openai_upstream(emulator, streamed):
    request = json.loads((Path(__file__).parent / "data" / "claude-code-request.json").read_text())
    request.pop("stream")
    # fields this anthropic SDK no longer has as arguments travel in extra_body, as a client of it would send them
    extra = {k: request.pop(k) for k in ("temperature", "context_management")}
    client = anthropic_client(emulator, "input=300,cache_read=1792,cache_write_5m=64,output=40,reasoning=12")
    if streamed:
        with client.messages.stream(**request, extra_body=extra) as stream:
            message = stream.get_final_message()
    else:  # the SDK refuses a 32000-token answer unstreamed (it may take over 10 minutes)
        message = client.messages.create(**{**request, "max_tokens": 4096}, extra_body=extra)
    record = emulator.requests[-1]
    assert record.path == "/v1/chat/completions" and record.status == 200
    assert record.body["messages"][-1]["role"] == "tool" and "thinking" not in record.body
    assert record.body.get("stream_options") == ({"include_usage": True} if streamed else None)
    # what the client reads, mapped by the ledger's Anthropic reader, is exactly what the upstream sent
    seen = PROTOCOLS["anthropic-messages"].usage(message.model_dump()).tokens
    assert seen == record.usage == Tokens(input=300, cache_read=1792, cache_write_5m=64, output=40, reasoning=12)
    assert message.stop_reason == "end_turn" and message.content[0].type == "text"  # the last turn was tool results


@pytest.mark.parametrize("streamed", [False, True], ids=["json", "stream"])
def test_anthropic_client_gets_the_openai_upstream_tool_call(emulator, streamed):
    client = anthropic_client(emulator, "input=12,cache_read=0,output=9")
    kwargs = {"model": "gpt-4o-mini", "max_tokens": 200, "tools": WEATHER_ANTHROPIC,
              "messages": [{"role": "user", "content": "Weather in Paris?"}]}
    if streamed:
        with client.messages.stream(**kwargs) as stream:
            message = stream.get_final_message()
    else:
        message = client.messages.create(**kwargs)
    # the emulator's answer is seeded by the prompt: the same translated request sent directly gives the reference call
    with openai.OpenAI(api_key="k", base_url=emulator.openai_url, max_retries=0) as direct_client:
        direct = direct_client.chat.completions.create(**get("anthropic-messages", "openai-chat").request({**kwargs, "stream": False}))
    (reference,) = direct.choices[0].message.tool_calls
    (call,) = [b for b in message.content if b.type == "tool_use"]
    assert (call.name, call.input) == ("get_weather", json.loads(reference.function.arguments))
    assert call.id.startswith("call_")  # the upstream's own call id, which the next turn must send back
    assert set(call.input) == {"city"}
    assert (message.stop_reason, message.usage.input_tokens, message.usage.output_tokens) == ("tool_use", 12, 9)


@pytest.mark.parametrize("streamed", [False, True], ids=["json", "stream"])
def test_openai_client_on_an_anthropic_upstream(emulator, streamed):
    client = openai_client(emulator, "input=50,cache_read=2000,cache_write_5m=100,output=30")
    kwargs = {"model": "claude-haiku-4-5", "tools": WEATHER_OPENAI, "temperature": 0.2,
              "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Weather in Paris?"}]}
    if streamed:
        with client.chat.completions.stream(**kwargs, stream_options={"include_usage": True}) as stream:
            completion = stream.get_final_completion()
    else:
        completion = client.chat.completions.create(**kwargs)
    record = emulator.requests[-1]
    assert record.path == "/v1/messages" and record.body["system"] == "Be brief." and "temperature" not in record.body
    assert record.body["max_tokens"] == 4096
    t = record.usage
    usage = completion.usage
    assert (usage.prompt_tokens, usage.prompt_tokens_details.cached_tokens, usage.prompt_tokens_details.cache_write_tokens) == (
        t.prompt, t.cache_read, t.cache_write) == (2150, 2000, 100)
    assert usage.completion_tokens == t.output == 30
    choice = completion.choices[0]
    (call,) = choice.message.tool_calls  # Claude says a few words first: the call is tool index 0 all the same
    assert call.function.name == "get_weather" and set(json.loads(call.function.arguments)) == {"city"}
    assert choice.message.content.startswith("I'll use get_weather") and choice.finish_reason == "tool_calls"


def test_upstream_http_error_reaches_the_client_sdk_as_its_own_error(emulator):
    emulator.enqueue_faults("429")
    client = anthropic_client(emulator, "input=1,output=1")
    with pytest.raises(anthropic.RateLimitError):
        client.messages.create(model="m", max_tokens=5, messages=[{"role": "user", "content": "hi"}])
