"""A whole Gemini ``generateContent`` answer as a Chat Completion, and what the stream shares with it.

- Each candidate becomes a choice (``n`` asks for several). Its text parts are joined into
  ``content``; parts marked ``thought: true`` (thought summaries, sent only when asked for) go to
  ``reasoning_content``, never into ``content``; each ``functionCall`` part naming a function
  becomes a tool call with ``args`` as JSON-string ``arguments``.
- Gemini gives calls no id the client could send back, so the gateway mints one per call:
  ``call_`` + 24 hex digits. Gemini 3 signs a call with a ``thoughtSignature`` that must come
  back with it in the next turn (without it the next request is refused), and a chat client
  keeps nothing but the id: so the signature rides in the id, as ``_ts_`` + its URL-safe base64
  (the alphabet Anthropic's ``tool_use`` ids also accept), and :func:`signature_of` reads it
  back when the conversation returns. Signatures on text parts are left out (Gemini does not
  require them back).
- ``finishReason``: STOP -> ``stop`` (``tool_calls`` when the candidate called a function),
  MAX_TOKENS -> ``length``, the safety and recitation family -> ``content_filter``, anything
  else -> ``stop``. A prompt blocked before any candidate (``promptFeedback.blockReason``, no
  candidates) is one empty choice with ``content_filter``.
- Usage in OpenAI's convention, exactly: ``prompt_tokens`` = ``promptTokenCount`` +
  ``toolUsePromptTokenCount``, ``cached_tokens`` = ``cachedContentTokenCount`` (already inside
  the prompt count, as in OpenAI's), ``completion_tokens`` = ``candidatesTokenCount`` +
  ``thoughtsTokenCount`` (Gemini counts thoughts beside the answer, OpenAI inside it),
  ``reasoning_tokens`` = ``thoughtsTokenCount``.
"""

from __future__ import annotations

import base64
import binascii
import re
import time
import uuid
from typing import Any

from .base import TranslationError
from .common import completion_id, count, dumps, error_message, listed, mapping, text

# JSON paths this module writes, per OpenAI object (``[]``: each item). ``inferaudit drift check``
# compares them with OpenAI's spec; tests/translate/test_gemini_fields.py fails when the code
# writes a path not listed.
READS: dict[str, tuple[str, ...]] = {"chat.request": ("model",)}
WRITES: dict[str, tuple[str, ...]] = {
    "chat.response": (
        "id", "object", "created", "model", "choices[].index", "choices[].message.role", "choices[].message.content",
        "choices[].message.refusal", "choices[].message.tool_calls[].id", "choices[].message.tool_calls[].type",
        "choices[].message.tool_calls[].function.name", "choices[].message.tool_calls[].function.arguments",
        "choices[].message.reasoning_content", "choices[].logprobs", "choices[].finish_reason", "usage",
    ),
    "chat.usage": (
        "prompt_tokens", "completion_tokens", "total_tokens", "prompt_tokens_details.cached_tokens",
        "completion_tokens_details.reasoning_tokens",
    ),
}

FINISH_REASONS = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    **{reason: "content_filter" for reason in (
        "SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT",
        "IMAGE_RECITATION", "MODEL_ARMOR")},
}
SIGNATURE_MARK = "_ts_"
_MINTED = re.compile(r"^call_[0-9a-f]{24}" + SIGNATURE_MARK + r"(?P<signature>[A-Za-z0-9_-]+)$")
_BASE64 = re.compile(r"^[A-Za-z0-9+/]+={0,2}$")


def call_id(signature: Any = None) -> str:
    """A fresh tool-call id, carrying Gemini's ``thoughtSignature`` for the call when it has one."""
    core = "call_" + uuid.uuid4().hex[:24]
    if not isinstance(signature, str) or not _BASE64.match(signature):
        return core  # no signature (Gemini 2.x, or not the first call of a parallel set)
    return core + SIGNATURE_MARK + signature.rstrip("=").replace("+", "-").replace("/", "_")


def signature_of(call_id: Any) -> str | None:
    """The ``thoughtSignature`` a minted tool-call id carries (None for any other id)."""
    found = _MINTED.match(call_id) if isinstance(call_id, str) else None
    if not found:
        return None
    raw = found.group("signature").replace("-", "+").replace("_", "/")
    raw += "=" * (-len(raw) % 4)
    try:
        base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw


def chat_usage(usage: Any) -> dict[str, Any]:
    """Gemini ``usageMetadata`` as OpenAI chat ``usage`` (see the module docstring for each sum)."""
    usage = mapping(usage)
    prompt = count(usage.get("promptTokenCount")) + count(usage.get("toolUsePromptTokenCount"))
    thoughts = count(usage.get("thoughtsTokenCount"))
    completion = count(usage.get("candidatesTokenCount")) + thoughts
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": count(usage.get("cachedContentTokenCount"))},
        "completion_tokens_details": {"reasoning_tokens": thoughts},
    }


def finish_reason(reason: Any, tool_calls: bool) -> str:
    finish = FINISH_REASONS.get(reason, "stop")
    return "tool_calls" if tool_calls and finish == "stop" else finish


def blocked(body: dict[str, Any]) -> bool:
    """A prompt Gemini refused before answering: a block reason and no candidates."""
    return not listed(body.get("candidates")) and bool(text(mapping(body.get("promptFeedback")).get("blockReason")))


def candidate_index(candidate: dict[str, Any], position: int) -> int:
    index = candidate.get("index")
    return index if isinstance(index, int) and not isinstance(index, bool) else position


def parts_of(candidate: dict[str, Any]) -> list[dict[str, Any]]:
    return [mapping(p) for p in listed(mapping(candidate.get("content")).get("parts"))]


def tool_call(part: dict[str, Any]) -> dict[str, Any] | None:
    """A ``functionCall`` part that names its function, as a chat tool call with a minted id."""
    call = mapping(part.get("functionCall"))
    if not text(call.get("name")):
        return None
    return {"id": call_id(part.get("thoughtSignature")), "type": "function",
            "function": {"name": call["name"], "arguments": dumps(mapping(call.get("args")))}}


def chat_completion(body: dict[str, Any], request: dict[str, Any] | None = None) -> dict[str, Any]:
    """A ``generateContent`` answer as a Chat Completion (``request``: the client's chat request)."""
    if body.get("error") is not None or not (listed(body.get("candidates")) or blocked(body)):
        raise TranslationError("upstream answer has no candidates: " + error_message(body))
    choices = [_choice(mapping(c), position) for position, c in enumerate(listed(body.get("candidates")))]
    if not choices:
        choices = [{"index": 0, "message": {"role": "assistant", "content": "", "refusal": None},
                    "logprobs": None, "finish_reason": "content_filter"}]
    return {
        "id": completion_id(body.get("responseId")),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": text(body.get("modelVersion")) or text(mapping(request).get("model")) or "",
        "choices": choices,
        "usage": chat_usage(body.get("usageMetadata")),
    }


def _choice(candidate: dict[str, Any], position: int) -> dict[str, Any]:
    said: list[str] = []
    thought: list[str] = []
    calls: list[dict[str, Any]] = []
    for part in parts_of(candidate):
        if isinstance(part.get("text"), str):
            (thought if part.get("thought") is True else said).append(part["text"])
        call = tool_call(part)
        if call:
            calls.append(call)
    message: dict[str, Any] = {"role": "assistant", "content": "".join(said) if said or not calls else None,
                               "refusal": None}
    if calls:
        message["tool_calls"] = calls
    if thought:
        message["reasoning_content"] = "".join(thought)  # the field vLLM and DeepSeek clients read
    return {"index": candidate_index(candidate, position), "message": message, "logprobs": None,
            "finish_reason": finish_reason(candidate.get("finishReason"), bool(calls))}
