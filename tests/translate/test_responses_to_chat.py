"""A Responses client (the openai SDK's ``responses``) on a Chat Completions upstream, through the gateway."""

from __future__ import annotations

import json

import pytest

from inferaudit.gateway import GatewayConfig
from inferaudit.ledger import Ledger
from inferaudit.translate.responses_api import chat_request
from inferaudit.usage import BUCKETS, Tokens

openai = pytest.importorskip("openai")

USAGE = "input=300,cache_read=1792,output=40,reasoning=8"
TOOL = {"type": "function", "name": "get_weather", "description": "Weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}


@pytest.fixture
def gateway(tmp_path):
    from inferaudit.testing import EmulatorThread
    from inferaudit.testing.gateway import GatewayThread

    ledger = tmp_path / "responses.duckdb"
    with EmulatorThread() as emulator:
        config = GatewayConfig.from_dict({
            "ledger": str(ledger), "ledger_flush_s": 0.05, "retry": {"attempts": 1},
            "providers": {"local": {"base_url": emulator.url, "protocol": "openai-chat",
                                    "forward_headers": ["x-emulator-usage", "x-emulator-fault"]}},
            "models": {"qwen3-coder": [{"provider": "local"}]},
        })

        class Running(GatewayThread):
            def rows(self):
                self.__exit__(None, None, None)
                with Ledger(ledger, read_only=True) as opened:
                    found = opened.con.execute(f"SELECT {', '.join(BUCKETS)}, status FROM calls").fetchall()
                return [(Tokens(*row[:-1]), row[-1]) for row in found]

        with Running(config) as running:
            yield running, emulator


def client_for(url: str, **headers):
    return openai.OpenAI(base_url=url + "/v1", api_key="client", max_retries=0,
                         default_headers={"x-emulator-usage": USAGE, **headers})


@pytest.mark.parametrize("streamed", [False, True], ids=["json", "stream"])
def test_text_answer_and_usage(gateway, streamed):
    running, emulator = gateway
    client = client_for(running.url)
    kwargs = {"model": "qwen3-coder", "instructions": "Be brief.", "input": "What is the capital of France?"}
    if streamed:
        with client.responses.stream(**kwargs) as stream:
            kinds = [event.type for event in stream]
            response = stream.get_final_response()
        assert kinds[:2] == ["response.created", "response.in_progress"] and kinds[-1] == "response.completed"
        assert "response.output_text.delta" in kinds
    else:
        response = client.responses.create(**kwargs)
    record = emulator.requests[-1]
    assert record.path == "/v1/chat/completions" and record.status == 200
    sent = record.body["messages"]
    assert sent[0] == {"role": "system", "content": "Be brief."} and sent[1]["role"] == "user"
    assert response.status == "completed" and response.output_text
    assert response.output[-1].type == "message"
    usage = response.usage
    assert (usage.input_tokens, usage.input_tokens_details.cached_tokens, usage.output_tokens) == (2092, 1792, 40)
    assert usage.output_tokens_details.reasoning_tokens == 8
    assert running.rows() == [(Tokens(input=300, cache_read=1792, output=40, reasoning=8), "ok")]


@pytest.mark.parametrize("streamed", [False, True], ids=["json", "stream"])
def test_tool_call_round_trip(gateway, streamed):
    running, emulator = gateway
    client = client_for(running.url)
    kwargs = {"model": "qwen3-coder", "tools": [TOOL], "tool_choice": "required", "input": "Weather in Paris?"}
    if streamed:
        with client.responses.stream(**kwargs) as stream:
            kinds = [event.type for event in stream]
            response = stream.get_final_response()
        assert "response.function_call_arguments.delta" in kinds and "response.function_call_arguments.done" in kinds
    else:
        response = client.responses.create(**kwargs)
    calls = [item for item in response.output if item.type == "function_call"]
    assert len(calls) == 1 and calls[0].name == "get_weather" and "city" in json.loads(calls[0].arguments)
    sent = emulator.requests[-1].body
    assert sent["tools"] == [{"type": "function", "function": {"name": "get_weather", "description": "Weather in a city",
                                                               "parameters": TOOL["parameters"]}}]
    # the next turn sends the call and its output back: they reach the chat server as a tool exchange
    follow = client.responses.create(model="qwen3-coder", tools=[TOOL], input=[
        {"type": "message", "role": "user", "content": "Weather in Paris?"},
        {"type": "function_call", "call_id": calls[0].call_id, "name": "get_weather", "arguments": calls[0].arguments},
        {"type": "function_call_output", "call_id": calls[0].call_id, "output": "sunny, 21 C"},
    ])
    messages = emulator.requests[-1].body["messages"]
    assert messages[1]["tool_calls"][0]["id"] == calls[0].call_id
    assert messages[2] == {"role": "tool", "tool_call_id": calls[0].call_id, "content": "sunny, 21 C"}
    assert follow.status == "completed"


def test_a_cut_stream_ends_with_the_responses_error_event(gateway):
    running, _ = gateway
    client = client_for(running.url, **{"x-emulator-fault": "reset-mid-stream"})
    with pytest.raises(openai.APIError):
        with client.responses.stream(model="qwen3-coder", input="hello") as stream:
            for _ in stream:
                pass
    assert running.rows()[0][1] == "midstream_error"


def test_what_a_chat_server_cannot_do_is_refused_with_a_400(gateway):
    running, emulator = gateway
    with pytest.raises(openai.BadRequestError, match="previous_response_id"):
        client_for(running.url).responses.create(model="qwen3-coder", input="more", previous_response_id="resp_1")
    assert emulator.requests == []


def test_request_mapping_details():
    body = chat_request({
        "model": "m", "input": [{"role": "developer", "content": [{"type": "input_text", "text": "rules"}]},
                                {"type": "message", "role": "user", "content": [
                                    {"type": "input_text", "text": "look"},
                                    {"type": "input_image", "image_url": "data:image/png;base64,AA=="}]},
                                {"type": "reasoning", "summary": []}],
        "tools": [TOOL, {"type": "web_search"}], "tool_choice": {"type": "function", "name": "get_weather"},
        "max_output_tokens": 64, "text": {"format": {"type": "json_schema", "name": "w", "schema": {"type": "object"},
                                                     "strict": True}},
    })
    assert body["messages"][0] == {"role": "system", "content": "rules"}
    assert body["messages"][1]["content"][1] == {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA=="}}
    assert len(body["messages"]) == 2  # the reasoning item has nowhere to go
    assert [t["function"]["name"] for t in body["tools"]] == ["get_weather"]  # hosted tools cannot run there
    assert body["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}
    assert body["max_tokens"] == 64
    assert body["response_format"]["json_schema"] == {"name": "w", "schema": {"type": "object"}, "strict": True}
