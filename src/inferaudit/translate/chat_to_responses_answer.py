"""A whole Responses ``response`` object as a Chat Completion, and what the stream shares with it.

- The ``output_text`` parts of every assistant ``message`` item, in order, are the ``content``;
  ``refusal`` parts are the message's ``refusal`` (content then null, as OpenAI's chat answers a
  refusal). Each ``function_call`` item becomes a tool call whose ``id`` is the item's ``call_id``
  (what the client sends back as ``tool_call_id``, and what Responses wants back as ``call_id``).
- ``reasoning`` items never reach ``content``: their summary text (else their ``reasoning_text``
  content) goes to ``reasoning_content``, as the other translators give reasoning to chat clients.
- ``finish_reason``: ``completed`` -> ``tool_calls`` when a function was called, else ``stop``;
  ``incomplete`` -> ``content_filter`` for ``incomplete_details.reason: content_filter``, else ``length``
  (``max_output_tokens``). A ``failed`` or ``cancelled`` response is no answer: the client gets a 502
  with the upstream's message.
- Usage in OpenAI chat's convention, which is Responses' too (cached tokens inside the input count,
  reasoning inside the output count), renamed, exactly: ``prompt_tokens`` = ``input_tokens``,
  ``cached_tokens`` = ``input_tokens_details.cached_tokens``, ``completion_tokens`` = ``output_tokens``,
  ``reasoning_tokens`` = ``output_tokens_details.reasoning_tokens``; ``cache_write_tokens``, when the
  upstream reports any, keeps its name (it is inside the input count in both conventions).
- Log probabilities, when the client asked (``logprobs``), come from the ``output_text`` parts'
  ``logprobs`` as ``choices[].logprobs.content``: the entries have the same fields in both APIs.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from .base import TranslationError
from .common import ERROR_READS, count, error_message, listed, mapping, text

READS: dict[str, tuple[str, ...]] = {
    "responses.response": (
        "id", "object", "created_at", "model", "status", "incomplete_details.reason", *ERROR_READS, "service_tier",
        "output[].type", "output[].content[].type", "output[].content[].text", "output[].content[].refusal",
        "output[].content[].logprobs[].token", "output[].content[].logprobs[].logprob",
        "output[].content[].logprobs[].bytes", "output[].content[].logprobs[].top_logprobs[].token",
        "output[].content[].logprobs[].top_logprobs[].logprob", "output[].content[].logprobs[].top_logprobs[].bytes",
        "output[].summary[].text", "output[].call_id", "output[].name", "output[].arguments", "usage",
    ),
    "responses.usage": (
        "input_tokens", "input_tokens_details.cached_tokens", "input_tokens_details.cache_write_tokens",
        "output_tokens", "output_tokens_details.reasoning_tokens",
    ),
    "chat.request": ("model", "logprobs"),
}
WRITES: dict[str, tuple[str, ...]] = {
    "chat.response": (
        "id", "object", "created", "model", "service_tier", "choices[].index", "choices[].message.role",
        "choices[].message.content", "choices[].message.refusal", "choices[].message.tool_calls[].id",
        "choices[].message.tool_calls[].type", "choices[].message.tool_calls[].function.name",
        "choices[].message.tool_calls[].function.arguments", "choices[].message.reasoning_content",
        "choices[].logprobs", "choices[].logprobs.content[].token", "choices[].logprobs.content[].logprob",
        "choices[].logprobs.content[].bytes", "choices[].logprobs.content[].top_logprobs[].token",
        "choices[].logprobs.content[].top_logprobs[].logprob", "choices[].logprobs.content[].top_logprobs[].bytes",
        "choices[].logprobs.refusal", "choices[].finish_reason", "usage",
    ),
    "chat.usage": (
        "prompt_tokens", "completion_tokens", "total_tokens", "prompt_tokens_details.cached_tokens",
        "prompt_tokens_details.cache_write_tokens", "completion_tokens_details.reasoning_tokens",
    ),
}

REASONING_JOIN = "\n\n"  # summary parts are separate paragraphs


def completion_id(response_id: Any) -> str:
    """An OpenAI ``chatcmpl-`` id made from the ``resp_`` id (a fresh one only when there is none)."""
    return "chatcmpl-" + (text(response_id) or uuid.uuid4().hex).removeprefix("resp_")


def chat_usage(usage: Any) -> dict[str, Any]:
    """Responses ``usage`` as chat ``usage``: the same convention, other names (see the module docstring)."""
    usage = mapping(usage)
    given = mapping(usage.get("input_tokens_details"))
    prompt, output = count(usage.get("input_tokens")), count(usage.get("output_tokens"))
    details: dict[str, int] = {"cached_tokens": count(given.get("cached_tokens"))}
    written = count(given.get("cache_write_tokens"))
    if written:
        details["cache_write_tokens"] = written
    return {
        "prompt_tokens": prompt,
        "completion_tokens": output,
        "total_tokens": prompt + output,
        "prompt_tokens_details": details,
        "completion_tokens_details": {"reasoning_tokens": count(mapping(usage.get("output_tokens_details")).get("reasoning_tokens"))},
    }


def finish_reason(response: dict[str, Any], tool_calls: bool) -> str:
    if response.get("status") == "incomplete":
        reason = mapping(response.get("incomplete_details")).get("reason")
        return "content_filter" if reason == "content_filter" else "length"
    return "tool_calls" if tool_calls else "stop"


def token_logprob(entry: Any, with_bytes: bool = True, top: bool = False) -> dict[str, Any]:
    """One Responses logprob entry as chat's (same fields; ``bytes`` null where Responses gives none)."""
    entry = mapping(entry)
    out = {"token": entry.get("token"), "logprob": entry.get("logprob"), "bytes": entry.get("bytes") if with_bytes else None}
    if not top:
        out["top_logprobs"] = [token_logprob(t, with_bytes, top=True) for t in listed(entry.get("top_logprobs"))]
    return out


def wants_logprobs(request: dict[str, Any] | None) -> bool:
    return mapping(request).get("logprobs") is True


def chat_completion(body: dict[str, Any], request: dict[str, Any] | None = None) -> dict[str, Any]:
    """A Responses ``response`` as a Chat Completion (``request``: the client's chat request)."""
    if body.get("object") != "response" and not isinstance(body.get("output"), list):
        raise TranslationError("upstream answer is not a response: " + error_message(body))
    if body.get("status") in ("failed", "cancelled") or body.get("error"):
        raise TranslationError(f"upstream response {body.get('status') or 'failed'}: " + error_message(body))
    said: list[str] = []
    refused: list[str] = []
    thought: list[str] = []
    logprobs: list[dict[str, Any]] = []
    calls: list[dict[str, Any]] = []
    for item in map(mapping, listed(body.get("output"))):
        kind = item.get("type")
        if kind == "message":
            for part in map(mapping, listed(item.get("content"))):
                if part.get("type") == "output_text" and isinstance(part.get("text"), str):
                    said.append(part["text"])
                    logprobs.extend(token_logprob(e) for e in listed(part.get("logprobs")))
                elif part.get("type") == "refusal" and isinstance(part.get("refusal"), str):
                    refused.append(part["refusal"])
        elif kind == "reasoning":
            thought.extend(reasoning_texts(item))
        elif kind == "function_call":
            calls.append(tool_call(item))
    message: dict[str, Any] = {"role": "assistant", "content": "".join(said) if said or not (calls or refused) else None,
                               "refusal": "".join(refused) or None}
    if calls:
        message["tool_calls"] = calls
    if thought:
        message["reasoning_content"] = REASONING_JOIN.join(thought)
    choice = {"index": 0, "message": message,
              "logprobs": {"content": logprobs, "refusal": None} if wants_logprobs(request) else None,
              "finish_reason": finish_reason(body, bool(calls))}
    out: dict[str, Any] = {
        "id": completion_id(body.get("id")),
        "object": "chat.completion",
        "created": created(body.get("created_at")),
        "model": text(body.get("model")) or text(mapping(request).get("model")) or "",
        "choices": [choice],
        "usage": chat_usage(body.get("usage")),
    }
    if text(body.get("service_tier")):
        out["service_tier"] = body["service_tier"]
    return out


def created(value: Any) -> int:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else int(time.time())


def reasoning_texts(item: dict[str, Any]) -> list[str]:
    """A reasoning item's summary texts, else its raw ``reasoning_text`` (open-weight models send that)."""
    summary = [p["text"] for p in map(mapping, listed(item.get("summary"))) if text(p.get("text"))]
    if summary:
        return summary
    return [p["text"] for p in map(mapping, listed(item.get("content")))
            if p.get("type") == "reasoning_text" and text(p.get("text"))]


def tool_call(item: dict[str, Any]) -> dict[str, Any]:
    """A ``function_call`` item as a chat tool call; its ``call_id`` is the id the client sends back."""
    arguments = item.get("arguments")
    return {"id": text(item.get("call_id")) or f"call_{uuid.uuid4().hex[:24]}", "type": "function",
            "function": {"name": text(item.get("name")) or "", "arguments": arguments if isinstance(arguments, str) else "{}"}}
