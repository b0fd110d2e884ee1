"""Whole (non-streaming) answers: a Chat Completion as a Message, and a Message as a Chat Completion.

Text blocks of one answer are concatenated as written (Claude splits text
at citations; the Anthropic SDK's ``get_final_text`` joins them the same
way). Tool-call ids are kept verbatim in both directions: the client sends
them back in its next turn's tool results, which must name the same call
upstream. Server-side tool blocks (``server_tool_use`` and their results)
ran at Anthropic and are not the client's to run: they are left out.
"""

from __future__ import annotations

import time
from typing import Any

from .base import TranslationError
from .common import (
    ERROR_READS,
    anthropic_stop,
    anthropic_usage,
    arguments_object,
    completion_id,
    dumps,
    error_message,
    finish_reason,
    listed,
    mapping,
    message_id,
    openai_usage,
    text,
    wants_thinking,
)

# JSON paths this module reads / writes, per OpenAI object (``[]``: each item; ``*``: the whole
# subtree). ``inferaudit drift check`` compares them with OpenAI's spec; tests/drift/test_fields.py
# fails when the code touches a path not listed.
READS: dict[str, tuple[str, ...]] = {
    "chat.response": (
        "id", "model", "usage", *ERROR_READS, "choices[].index", "choices[].message.reasoning_content",
        "choices[].message.reasoning", "choices[].message.refusal", "choices[].message.content",
        "choices[].message.content[].text", "choices[].message.tool_calls[].id",
        "choices[].message.tool_calls[].function.name", "choices[].message.tool_calls[].function.arguments",
        "choices[].finish_reason", "choices[].stop_reason",
    ),
}
WRITES: dict[str, tuple[str, ...]] = {
    "chat.response": (
        "id", "object", "created", "model", "choices[].index", "choices[].message.role", "choices[].message.content",
        "choices[].message.refusal", "choices[].message.tool_calls[].id", "choices[].message.tool_calls[].type",
        "choices[].message.tool_calls[].function.name", "choices[].message.tool_calls[].function.arguments",
        "choices[].message.reasoning_content", "choices[].logprobs", "choices[].finish_reason", "usage",
    ),
}


def anthropic_message(body: dict[str, Any], request: dict[str, Any] | None = None) -> dict[str, Any]:
    """A Chat Completion ``body`` as an Anthropic ``message`` (``request``: the client's Messages request)."""
    choices = [mapping(c) for c in listed(body.get("choices"))]
    if not choices:
        raise TranslationError("upstream answer has no choices: " + error_message(body))
    choice = min(choices, key=lambda c: c.get("index") if isinstance(c.get("index"), int) else 0)
    message = mapping(choice.get("message"))
    content: list[dict[str, Any]] = []
    reasoning = text(message.get("reasoning_content")) or text(message.get("reasoning"))
    if reasoning and wants_thinking(request):
        content.append({"type": "thinking", "thinking": reasoning, "signature": ""})
    refusal = text(message.get("refusal"))
    said = _chat_text(message.get("content")) or refusal
    if said:
        content.append({"type": "text", "text": said})
    calls = [mapping(c) for c in listed(message.get("tool_calls"))]
    for index, call in enumerate(calls):
        function = mapping(call.get("function"))
        content.append({
            "type": "tool_use",
            "id": text(call.get("id")) or f"toolu_{index}_{message_id(body.get('id'))[4:]}",
            "name": text(function.get("name")) or "",
            "input": arguments_object(function.get("arguments")),
        })
    stop_reason, stop_sequence = anthropic_stop(choice.get("finish_reason"), bool(calls), choice.get("stop_reason"), request)
    if refusal and said == refusal and not calls:
        stop_reason = "refusal"  # OpenAI's refusal field: the model declined, which Messages says this way
    return {
        "id": message_id(body.get("id")),
        "type": "message",
        "role": "assistant",
        "model": text(body.get("model")) or text(mapping(request).get("model")) or "",
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": stop_sequence,
        "usage": anthropic_usage(body.get("usage")),
    }


def openai_completion(body: dict[str, Any], request: dict[str, Any] | None = None) -> dict[str, Any]:
    """An Anthropic ``message`` as a Chat Completion (``request``: the client's Chat Completions request)."""
    if body.get("type") == "error" or not isinstance(body.get("content"), list):
        raise TranslationError("upstream answer is not a message: " + error_message(body))
    texts: list[str] = []
    thinking: list[str] = []
    calls: list[dict[str, Any]] = []
    for block in map(mapping, body["content"]):
        kind = block.get("type")
        if kind == "text" and isinstance(block.get("text"), str):
            texts.append(block["text"])
        elif kind == "thinking" and isinstance(block.get("thinking"), str):
            thinking.append(block["thinking"])
        elif kind == "tool_use":
            arguments = dumps(block["input"]) if isinstance(block.get("input"), dict) else "{}"
            calls.append({"id": block.get("id"), "type": "function",
                          "function": {"name": block.get("name") or "", "arguments": arguments}})
    message: dict[str, Any] = {"role": "assistant", "content": "".join(texts) if texts or not calls else None, "refusal": None}
    if calls:
        message["tool_calls"] = calls
    if thinking:
        message["reasoning_content"] = "".join(thinking)  # the field vLLM and DeepSeek clients read
    return {
        "id": completion_id(body.get("id")),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": text(body.get("model")) or text(mapping(request).get("model")) or "",
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish_reason(body.get("stop_reason"))}],
        "usage": openai_usage(body.get("usage")),
    }


def _chat_text(content: Any) -> str | None:
    """A chat message's text: a string, or (some servers) a list of text parts."""
    if isinstance(content, str):
        return content or None
    joined = "".join(p.get("text") for p in map(mapping, listed(content)) if isinstance(p.get("text"), str))
    return joined or None
