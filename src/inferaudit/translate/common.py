"""What both directions share: usage between the two token conventions, stop reasons, ids, errors.

Usage is where accounting bugs are born (DESIGN.md, "Token buckets").
OpenAI's ``prompt_tokens`` *includes* ``cached_tokens`` (and the
``cache_write_tokens`` some servers report); Anthropic's ``input_tokens``
*excludes* cache reads and writes. Each conversion moves the cached parts
between the conventions, so that the client's SDK adds up to exactly the
prompt the upstream counted, and output (reasoning included) is kept as is.
"""

from __future__ import annotations

import uuid
from typing import Any

from ..providers import PROTOCOLS
from ..providers._common import dumps, event_json, loads  # noqa: F401  (re-exported for the translators)

# JSON paths this module reads / writes, per OpenAI object (``[]``: each item; ``*``: the whole
# subtree). ``inferaudit drift check`` compares them with OpenAI's spec; tests/drift/test_fields.py
# fails when the code touches a path not listed.
ERROR_READS = ("error", "error.message", "message", "detail")  # error_message: any protocol's error shape
READS: dict[str, tuple[str, ...]] = {
    "chat.usage": (
        "prompt_tokens", "prompt_tokens_details.cached_tokens", "prompt_tokens_details.cache_write_tokens",
        "completion_tokens", "completion_tokens_details.reasoning_tokens",
    ),
    "chat.error": ERROR_READS,
}
WRITES: dict[str, tuple[str, ...]] = {
    "chat.usage": (
        "prompt_tokens", "completion_tokens", "total_tokens", "prompt_tokens_details.cached_tokens",
        "prompt_tokens_details.cache_write_tokens", "completion_tokens_details.reasoning_tokens",
    ),
}

# OpenAI finish_reason -> Anthropic stop_reason
STOP_REASONS = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "content_filter": "refusal",
}
# Anthropic stop_reason -> OpenAI finish_reason (pause_turn: a server tool paused; the client just sees a stop)
FINISH_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}


def mapping(value: Any) -> dict[str, Any]:
    """``value`` if it is a JSON object, else an empty one: upstreams send null where a doc says object."""
    return value if isinstance(value, dict) else {}


def listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def count(value: Any) -> int:
    """A token count, or 0 for anything that is not a non-negative integer."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def arguments_object(raw: Any) -> dict[str, Any]:
    """Tool-call arguments (a JSON string in OpenAI) as the object Anthropic's ``input`` must be.

    Small local models do emit arguments that are not a JSON object; they
    are kept whole under ``"arguments"`` rather than lost, so the client can
    still show what the model tried.
    """
    if isinstance(raw, dict):
        return raw
    if raw is None or raw == "":
        return {}
    parsed = loads(raw) if isinstance(raw, (str, bytes)) else None
    return parsed if isinstance(parsed, dict) else {"arguments": raw}


def message_id(upstream_id: Any) -> str:
    """An Anthropic ``msg_`` id made from the upstream's id (a fresh one only when it sent none)."""
    core = text(upstream_id) or uuid.uuid4().hex
    return "msg_" + core.removeprefix("chatcmpl-")


def completion_id(upstream_id: Any) -> str:
    """An OpenAI ``chatcmpl-`` id made from the upstream's id (a fresh one only when it sent none)."""
    core = text(upstream_id) or uuid.uuid4().hex
    return "chatcmpl-" + core.removeprefix("msg_")


def wants_thinking(request: dict[str, Any] | None) -> bool:
    """Whether an Anthropic client asked for thinking; only then does upstream reasoning text reach it.

    A client that did not ask may read ``content[0].text``: a thinking block
    there would break it.
    """
    return mapping(mapping(request).get("thinking")).get("type") in ("enabled", "adaptive")


def anthropic_stop(finish: Any, tool_calls: bool, matched: Any = None, request: dict[str, Any] | None = None) -> tuple[str, str | None]:
    """(stop_reason, stop_sequence) for an OpenAI ``finish_reason``.

    Some servers (Ollama, several llama.cpp templates) say ``stop`` after a
    tool call: the tool call wins, or the client would never run it. vLLM
    names the stop string it hit in ``stop_reason``; when that string is one
    the client asked for, Anthropic's ``stop_sequence`` is exact.
    """
    if tool_calls and finish in (None, "stop", "tool_calls", "function_call"):
        return "tool_use", None
    if finish == "stop" and isinstance(matched, str) and matched in listed(mapping(request).get("stop_sequences")):
        return "stop_sequence", matched
    return STOP_REASONS.get(finish, "end_turn"), None


def finish_reason(stop_reason: Any) -> str:
    return FINISH_REASONS.get(stop_reason, "stop")


def anthropic_usage(usage: Any) -> dict[str, Any]:
    """OpenAI chat ``usage`` as Anthropic's: the cached and written parts taken *out* of the input count."""
    usage = mapping(usage)
    details = mapping(usage.get("prompt_tokens_details"))
    prompt, cached, written = count(usage.get("prompt_tokens")), count(details.get("cached_tokens")), count(details.get("cache_write_tokens"))
    output = count(usage.get("completion_tokens"))
    out: dict[str, Any] = {
        "input_tokens": max(0, prompt - cached - written),
        "cache_creation_input_tokens": written,
        "cache_read_input_tokens": cached,
        "output_tokens": output,
    }
    reasoning = count(mapping(usage.get("completion_tokens_details")).get("reasoning_tokens"))
    if reasoning:
        out["output_tokens_details"] = {"thinking_tokens": min(reasoning, output)}
    return out


def openai_usage(usage: Any) -> dict[str, Any]:
    """Anthropic ``usage`` as OpenAI chat's: the prompt count made to *include* cache reads and writes."""
    usage = mapping(usage)
    split = mapping(usage.get("cache_creation"))
    written = count(usage.get("cache_creation_input_tokens")) or (
        count(split.get("ephemeral_5m_input_tokens")) + count(split.get("ephemeral_1h_input_tokens"))
    )
    cached, output = count(usage.get("cache_read_input_tokens")), count(usage.get("output_tokens"))
    prompt = count(usage.get("input_tokens")) + cached + written
    details: dict[str, int] = {"cached_tokens": cached}
    if written:
        details["cache_write_tokens"] = written
    out: dict[str, Any] = {
        "prompt_tokens": prompt,
        "completion_tokens": output,
        "total_tokens": prompt + output,
        "prompt_tokens_details": details,
    }
    thinking = count(mapping(usage.get("output_tokens_details")).get("thinking_tokens"))
    if thinking:
        out["completion_tokens_details"] = {"reasoning_tokens": thinking}
    return out


def error_message(body: bytes | str | Any) -> str:
    """The human message of an error body in any protocol's shape (or its text when it is not JSON)."""
    data = loads(body) if isinstance(body, (bytes, str)) else body
    if isinstance(data, dict):
        error = data.get("error")
        found = text(mapping(error).get("message")) or text(error) or text(data.get("message")) or text(data.get("detail"))
        if found:
            return found
        return dumps(data)
    raw = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
    return raw.strip()[:2000] or "upstream error without a body"


def client_error(protocol: str, status: int, body: bytes | str | Any) -> dict[str, Any]:
    """An upstream error body rewritten into ``protocol``'s own error shape, with the upstream's message."""
    return PROTOCOLS[protocol].error_body(status, error_message(body))


class StreamEnding:
    """How every stream translator ends: once, either with its protocol's end or its error event.

    Subclasses set ``client_protocol``, keep ``_done``, and define ``_finished()`` (did the upstream
    say it was done?) and ``_end()`` (the client protocol's normal ending bytes).
    """

    client_protocol: str
    _done: bool

    def _finished(self) -> bool:
        raise NotImplementedError

    def _end(self) -> bytes:
        raise NotImplementedError

    def close(self) -> bytes:
        if self._done:
            return b""
        if not self._finished():
            return self.error("upstream stream ended before it finished its answer")
        return self._end()

    def error(self, message: str) -> bytes:
        if self._done:
            return b""
        self._done = True
        return client_error_event(self.client_protocol, message)


def client_error_event(protocol: str, message: str) -> bytes:
    return PROTOCOLS[protocol].error_event(message)


def refuse_chat_fields(body: dict[str, Any], known: set[str], refused: dict[str, str], *, to: str, on: str,
                       name: str) -> None:
    """What both Chat-to-X request translators refuse, naming the upstream: fields neither mapped nor
    dropped (``to``: "send to Gemini"), fields ``refused`` when set (``on``: "a Gemini upstream"), a
    logit bias and non-text output modalities (``name``: "Gemini")."""
    from .base import TranslationError

    unknown = sorted(set(body) - known - set(refused))
    if unknown:
        raise TranslationError(f"{', '.join(unknown)}: not a Chat Completions field this gateway can send to {to}")
    for field_name, what in refused.items():
        if body.get(field_name) is not None and body[field_name] != []:
            raise TranslationError(f"{field_name}: {what} is not available on {on}")
    if mapping(body.get("logit_bias")):
        raise TranslationError(f"logit_bias: {name} has no logit bias")
    modalities = [m for m in listed(body.get("modalities")) if m != "text"]
    if modalities:
        raise TranslationError(f"modalities: {', '.join(map(str, modalities))} output is not available on {on}")
