"""Whole answers both ways, read back by the client's official SDK: usage buckets, tool calls, stop reasons."""

from __future__ import annotations

import json

import pytest

from inferaudit.providers import PROTOCOLS
from inferaudit.translate import TranslationError, get
from inferaudit.usage import Tokens

TO_OPENAI = get("anthropic-messages", "openai-chat")  # Anthropic client, OpenAI upstream
TO_ANTHROPIC = get("openai-chat", "anthropic-messages")  # OpenAI client, Anthropic upstream


def as_bytes(obj: dict) -> bytes:
    return json.dumps(obj).encode()


def test_openai_tool_call_answer_reaches_the_anthropic_sdk_with_cached_tokens_moved_out_of_input(wire, anthropic_sdk):
    upstream = wire.recorded_json("openai-chat-azure-gpt-4o-tool-call-cached.json")
    body = TO_OPENAI.response(upstream)
    message = anthropic_sdk(as_bytes(body), content_type="application/json").messages.create(
        model="gpt-4o", max_tokens=100, messages=[{"role": "user", "content": "list my repositories"}])
    # prompt_tokens 2012 includes 1920 cached; Anthropic's input_tokens excludes them
    assert (message.usage.input_tokens, message.usage.cache_read_input_tokens) == (92, 1920)
    assert (message.usage.cache_creation_input_tokens, message.usage.output_tokens) == (0, 23)
    (call,) = message.content
    assert (call.type, call.id, call.name, call.input) == (
        "tool_use", "call_2EgYitXdIMMykij9S5M0gRz6", "search_repositories", {"query": "user:chaozai0304"})
    assert (message.stop_reason, message.id, message.model) == ("tool_use", "msg_BMTWfxTMiqoJFie4RuxDfx0c7eXOw", "gpt-4o-2024-11-20")


def test_the_client_view_books_the_same_buckets_as_the_upstream(wire):
    """Read by the ledger's own Anthropic reader, the translated answer gives the upstream's exact buckets."""
    upstream = wire.recorded_json("openai-chat-azure-gpt-4o-tool-call-cached.json")
    seen_by_client = PROTOCOLS["anthropic-messages"].usage(TO_OPENAI.response(upstream))
    assert seen_by_client.tokens == PROTOCOLS["openai-chat"].usage(upstream).tokens == Tokens(input=92, cache_read=1920, output=23)
    assert seen_by_client.tool_calls == 1


def test_anthropic_tool_use_answer_reaches_the_openai_sdk(wire, openai_sdk):
    upstream = wire.recorded_json("anthropic-message-haiku-tool-use.json")
    body = TO_ANTHROPIC.response(upstream)
    completion = openai_sdk(as_bytes(body), content_type="application/json").chat.completions.create(
        model="claude-haiku-4-5", messages=[{"role": "user", "content": "weather"}])
    (choice,) = completion.choices
    (call,) = choice.message.tool_calls
    assert (call.id, call.function.name) == ("toolu_01Q9ExVZnzZj7E2QQYHYtNUa", "json")
    assert json.loads(call.function.arguments) == upstream["content"][0]["input"]
    assert (choice.finish_reason, choice.message.content, completion.id) == ("tool_calls", None, "chatcmpl-0191iYfpERYfS27xLsdW2nbb")
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens, completion.usage.total_tokens) == (1151, 87, 1238)
    assert completion.usage.prompt_tokens_details.cached_tokens == 0


def test_anthropic_cache_reads_and_writes_are_put_back_into_prompt_tokens(wire, openai_sdk):
    upstream = wire.recorded_json("anthropic-message-cache-ttl-split.json")
    body = TO_ANTHROPIC.response(upstream)
    completion = openai_sdk(as_bytes(body), content_type="application/json").chat.completions.create(
        model="claude-sonnet-4", messages=[{"role": "user", "content": "hi"}])
    usage = completion.usage
    # input 2048 excludes 1800 read and 248 written: OpenAI's prompt count includes both
    assert (usage.prompt_tokens, usage.prompt_tokens_details.cached_tokens, usage.prompt_tokens_details.cache_write_tokens) == (4096, 1800, 248)
    assert (usage.completion_tokens, usage.total_tokens) == (503, 4599)
    assert (completion.choices[0].message.content, completion.choices[0].finish_reason) == ("Hi! My name is Claude.", "stop")


def test_reasoning_becomes_a_thinking_block_only_for_a_client_that_asked():
    upstream = {"id": "chatcmpl-q", "model": "qwen3", "choices": [{"index": 0, "finish_reason": "stop", "message": {
        "role": "assistant", "content": "42", "reasoning_content": "six times seven"}}],
        "usage": {"prompt_tokens": 20, "completion_tokens": 9, "completion_tokens_details": {"reasoning_tokens": 5}}}
    anthropic_types = pytest.importorskip("anthropic.types")
    plain = anthropic_types.Message.model_validate(TO_OPENAI.response(upstream, {"model": "q"}))
    assert [b.type for b in plain.content] == ["text"] and plain.content[0].text == "42"
    thinking = anthropic_types.Message.model_validate(TO_OPENAI.response(upstream, {"thinking": {"type": "enabled", "budget_tokens": 1024}}))
    assert [(b.type, getattr(b, "thinking", None)) for b in thinking.content] == [("thinking", "six times seven"), ("text", None)]
    assert thinking.usage.output_tokens_details.thinking_tokens == 5 and thinking.usage.output_tokens == 9


@pytest.mark.parametrize("finish, tool_calls, matched, expected", [
    ("stop", False, None, ("end_turn", None)),
    ("length", False, None, ("max_tokens", None)),
    ("tool_calls", True, None, ("tool_use", None)),
    ("stop", True, None, ("tool_use", None)),  # Ollama and llama.cpp templates say "stop" after a tool call
    ("content_filter", False, None, ("refusal", None)),
    ("stop", False, "END", ("stop_sequence", "END")),  # vLLM names the stop string it hit
    ("stop", False, "not asked for", ("end_turn", None)),
])
def test_finish_reason_to_stop_reason(finish, tool_calls, matched, expected):
    message = {"role": "assistant", "content": "x"}
    if tool_calls:
        message["tool_calls"] = [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]
    upstream = {"id": "chatcmpl-1", "model": "m", "choices": [{"index": 0, "message": message, "finish_reason": finish, "stop_reason": matched}]}
    body = TO_OPENAI.response(upstream, {"stop_sequences": ["END"]})
    assert (body["stop_reason"], body["stop_sequence"]) == expected


@pytest.mark.parametrize("stop_reason, finish", [
    ("end_turn", "stop"), ("stop_sequence", "stop"), ("pause_turn", "stop"), ("max_tokens", "length"),
    ("model_context_window_exceeded", "length"), ("tool_use", "tool_calls"), ("refusal", "content_filter"),
])
def test_stop_reason_to_finish_reason(stop_reason, finish):
    openai_types = pytest.importorskip("openai.types.chat")
    upstream = {"id": "msg_1", "type": "message", "role": "assistant", "model": "claude", "stop_reason": stop_reason,
                "content": [{"type": "text", "text": "x"}], "usage": {"input_tokens": 1, "output_tokens": 1}}
    completion = openai_types.ChatCompletion.model_validate(TO_ANTHROPIC.response(upstream))
    assert completion.choices[0].finish_reason == finish


def test_arguments_that_are_not_a_json_object_are_kept_not_lost():
    upstream = {"id": "chatcmpl-2", "model": "tiny", "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
        "role": "assistant", "content": None, "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{\"a\": 1"}}]}}]}
    (block,) = TO_OPENAI.response(upstream)["content"]
    assert block["input"] == {"arguments": "{\"a\": 1"}


def test_an_answer_without_choices_or_content_is_a_translation_error():
    with pytest.raises(TranslationError, match="quota"):
        TO_OPENAI.response({"error": {"message": "quota exceeded"}})
    with pytest.raises(TranslationError, match="Overloaded"):
        TO_ANTHROPIC.response({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})


def test_upstream_error_bodies_become_the_client_sdks_own_errors(wire, anthropic_sdk, openai_sdk):
    anthropic = pytest.importorskip("anthropic")
    openai = pytest.importorskip("openai")
    body = TO_OPENAI.error_body(429, wire.recorded_bytes("openai-error-insufficient-quota.json"))
    with pytest.raises(anthropic.RateLimitError, match="You exceeded your current quota") as caught:
        anthropic_sdk(as_bytes(body), status=429, content_type="application/json").messages.create(
            model="m", max_tokens=5, messages=[{"role": "user", "content": "hi"}])
    assert caught.value.body["error"]["type"] == "rate_limit_error"
    overloaded = b'{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}'
    with pytest.raises(openai.InternalServerError, match="Overloaded"):
        openai_sdk(as_bytes(TO_ANTHROPIC.error_body(529, overloaded)), status=529, content_type="application/json").chat.completions.create(
            model="m", messages=[{"role": "user", "content": "hi"}])
    assert TO_OPENAI.error_body(502, b"<html>Bad Gateway</html>")["error"]["message"] == "<html>Bad Gateway</html>"
