"""The scripted model: deterministic replay, and a prompt cache that makes cache policies visible."""

from __future__ import annotations

import json
import subprocess
import urllib.request

import pytest

from inferaudit.bench.agent.wire import WIRES, Request
from inferaudit.testing.scripted import TOOL_SHAPES, ScriptedModel, Step, Trajectory
from inferaudit.usage import Tokens

TRAJECTORY = {"t": Trajectory("fix the bug", (Step("looking", (("read_file", {"path": "a.py"}),)), Step("ok")))}


def post(url: str, wire: str, policy: str, messages: list) -> dict:
    body = WIRES[wire].body(Request("claude-haiku-4-5", "system prompt " * 50, messages, 100, None, policy, "t"))
    request = urllib.request.Request(url + WIRES[wire].path, json.dumps(body).encode(), {"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_replay_is_matched_by_instruction_and_stepped_by_tool_call_ids():
    with ScriptedModel(TRAJECTORY) as model:
        first = post(model.url, "openai-chat", "none", [{"role": "user", "content": "please fix the bug"}])
        call = first["choices"][0]["message"]["tool_calls"][0]
        assert call["id"] == "call_s0_0" and json.loads(call["function"]["arguments"]) == {"path": "a.py"}
        second = post(model.url, "openai-chat", "none", [
            {"role": "user", "content": "please fix the bug"}, first["choices"][0]["message"],
            {"role": "tool", "tool_call_id": "call_s0_0", "content": "x = 1"}])
        assert second["choices"][0]["message"] == {"role": "assistant", "content": "ok"}
        other = post(model.url, "openai-chat", "none", [{"role": "user", "content": "something else"}])
        assert other["choices"][0]["message"]["content"] == "Done."
        assert [(r.task, r.step) for r in model.requests] == [("t", 0), ("t", 1), (None, 0)]


def test_anthropic_breakpoints_write_then_read_by_ttl():
    messages = [{"role": "user", "content": "please fix the bug"}]
    with ScriptedModel(TRAJECTORY) as model:
        cold = post(model.url, "anthropic-messages", "none", messages)["usage"]
        first = post(model.url, "anthropic-messages", "1h", messages)["usage"]
        again = post(model.url, "anthropic-messages", "1h", messages)["usage"]
    prompt = cold["input_tokens"]
    assert cold["cache_read_input_tokens"] == 0 and cold["cache_creation_input_tokens"] == 0
    assert first["cache_creation"] == {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": prompt}
    assert first["input_tokens"] == 0 and again["cache_read_input_tokens"] == prompt and again["input_tokens"] == 0
    assert model.requests[1].tokens == Tokens(cache_write_1h=prompt, output=model.requests[1].tokens.output)


def test_openai_caches_only_requests_that_ask():
    messages = [{"role": "user", "content": "please fix the bug"}]
    with ScriptedModel(TRAJECTORY) as model:
        plain = [post(model.url, "openai-chat", "none", messages)["usage"] for _ in range(2)]
        keyed = [post(model.url, "openai-chat", "auto", messages)["usage"] for _ in range(2)]
    assert [u["prompt_tokens_details"]["cached_tokens"] for u in plain] == [0, 0]
    assert keyed[0]["prompt_tokens_details"]["cached_tokens"] == 0
    assert 0 < keyed[1]["prompt_tokens_details"]["cached_tokens"] < keyed[1]["prompt_tokens"]


def test_streams_parse_in_the_official_sdks_with_the_same_usage_as_recorded():
    anthropic, openai = pytest.importorskip("anthropic"), pytest.importorskip("openai")
    trajectory = {"t": Trajectory("fix the bug", (Step("looking", (("Read", {"file_path": "a.py"}),)), Step("ok")))}
    with ScriptedModel(trajectory) as model:
        claude = anthropic.Anthropic(base_url=model.url, api_key="k", max_retries=0)
        with claude.messages.stream(model="claude-haiku-4-5", max_tokens=100, cache_control={"type": "ephemeral"},
                                    messages=[{"role": "user", "content": "please fix the bug"}]) as stream:
            message = stream.get_final_message()
        gpt = openai.OpenAI(base_url=model.url + "/v1", api_key="k", max_retries=0)
        events = list(gpt.responses.create(model="gpt-5", input="please fix the bug", stream=True, prompt_cache_key="t",
                                           tools=[{"type": "function", "name": "exec_command", "parameters": {}}]))
    [text, call] = message.content
    assert (text.text, call.id, call.name, call.input) == ("looking", "toolu_s0_0", "Read", {"file_path": "a.py"})
    assert Tokens.from_anthropic(message.usage.model_dump()) == model.requests[0].tokens
    done = events[-1].response
    assert events[-1].type == "response.completed" and [o.type for o in done.output] == ["message", "function_call"]
    assert (done.output[1].call_id, json.loads(done.output[1].arguments)) == ("call_s0_0", {"file_path": "a.py"})
    u = done.usage
    assert Tokens.from_prompt_including_cached(u.input_tokens, u.input_tokens_details.cached_tokens,
                                               u.output_tokens) == model.requests[1].tokens


@pytest.mark.parametrize("text", ["x = 1\n", "no newline", "INFERAUDIT_EOF\nclash\n", "quotes ' \" $HOME `x` \\n\n"])
def test_codex_shaped_writes_reproduce_the_file_exactly(tmp_path, text):
    name, args = TOOL_SHAPES["codex"].write("sub dir/a.py", text)
    (tmp_path / "sub dir").mkdir()
    subprocess.run(["bash", "-c", args["cmd"]], cwd=tmp_path, check=True)
    expected = text if text.endswith("\n") else text + "\n"  # a here-document ends its last line
    assert name == "exec_command" and (tmp_path / "sub dir" / "a.py").read_text() == expected
